// "Copy link" buttons ([data-copy]: an invite link, absolute or a path on this server): copies the
// full URL to the clipboard and says so. If the clipboard is refused (permissions, an insecure
// origin), the link's text is selected instead so the user can copy it themselves.
import { showToast } from "./toasts.ts";

export function installCopyButtons(): void {
  document.addEventListener("click", (event) => {
    const button = (event.target as Element).closest?.<HTMLElement>("[data-copy]");
    const value = button?.dataset.copy;
    if (!button || !value) return;
    const url = new URL(value, location.origin).href;
    const done = () => showToast("Link copied.", "success");
    const fallback = () => {
      const text = button.parentElement?.querySelector("code");
      if (text) getSelection()?.selectAllChildren(text);
      showToast("Copy the selected link (Ctrl+C).", "info");
    };
    if (navigator.clipboard?.writeText) void navigator.clipboard.writeText(url).then(done, fallback);
    else fallback();
  });
}
