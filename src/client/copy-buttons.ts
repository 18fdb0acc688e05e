/**
 * Copy buttons: `<button data-copy-target="ID">` copies the text of the element with that id
 * (a one-time secret, an invite link) and says so on the button for a moment. Delegated, so it
 * works on content htmx swaps in. Without the Clipboard API (an insecure origin) the text is
 * selected instead, for Ctrl+C.
 */
const RESET_MS = 2000;

export function installCopyButtons(): void {
  document.addEventListener("click", (event) => {
    const button = (event.target as Element | null)?.closest<HTMLButtonElement>("button[data-copy-target]");
    const id = button?.dataset.copyTarget;
    const source = id ? document.getElementById(id) : null;
    if (!button || !source) return;
    const text = (source instanceof HTMLInputElement ? source.value : source.textContent ?? "").trim();
    const done = (label: string) => {
      const original = button.dataset.copyLabel ?? button.textContent ?? "";
      button.dataset.copyLabel = original;
      button.textContent = label;
      window.setTimeout(() => (button.textContent = original), RESET_MS);
    };
    const select = () => {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      done("Selected: press Ctrl+C");
    };
    if (!navigator.clipboard) return select();
    navigator.clipboard.writeText(text).then(() => done(button.dataset.copiedText ?? "Copied"), select);
  });
}
