/**
 * Copy buttons, delegated (they work on content htmx swaps in):
 *   - `<button data-copy-target="ID">` copies the text of the element with that id (a one-time
 *     secret such as a new API token) and says so on the button for a moment;
 *   - `<button data-copy="URL-or-path">` copies the full URL (an invite link) and says so in a toast.
 * Without the Clipboard API (an insecure origin) or when it is refused, the text is selected
 * instead, for Ctrl+C.
 */
import { showToast } from "./toasts.ts";

const RESET_MS = 2000;

function selectText(node: Node): void {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}

function copyFromElement(button: HTMLButtonElement, source: HTMLElement): void {
  const text = (source instanceof HTMLInputElement ? source.value : (source.textContent ?? "")).trim();
  const done = (label: string) => {
    const original = button.dataset.copyLabel ?? button.textContent ?? "";
    button.dataset.copyLabel = original;
    button.textContent = label;
    window.setTimeout(() => (button.textContent = original), RESET_MS);
  };
  const fallback = () => {
    selectText(source);
    done("Selected: press Ctrl+C");
  };
  if (!navigator.clipboard?.writeText) return fallback();
  navigator.clipboard.writeText(text).then(() => done(button.dataset.copiedText ?? "Copied"), fallback);
}

function copyLink(button: HTMLElement, value: string): void {
  const url = new URL(value, location.origin).href;
  const fallback = () => {
    const text = button.parentElement?.querySelector("code");
    if (text) selectText(text);
    showToast("Copy the selected link (Ctrl+C).", "info");
  };
  if (navigator.clipboard?.writeText) void navigator.clipboard.writeText(url).then(() => showToast("Link copied.", "success"), fallback);
  else fallback();
}

export function installCopyButtons(): void {
  document.addEventListener("click", (event) => {
    const target = event.target as Element | null;
    const byId = target?.closest?.<HTMLButtonElement>("button[data-copy-target]");
    const source = byId?.dataset.copyTarget ? document.getElementById(byId.dataset.copyTarget) : null;
    if (byId && source) return copyFromElement(byId, source);
    const link = target?.closest?.<HTMLElement>("[data-copy]");
    if (link?.dataset.copy) copyLink(link, link.dataset.copy);
  });
}
