// Editing a message in place: Enter saves (the caller re-encrypts like a new message), Escape
// or an unchanged text cancels and puts the shown text back.

import { MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";

export function openInlineEditor(msg: HTMLElement, text: string, save: (next: string) => Promise<void>): void {
  const box = msg.querySelector<HTMLElement>(".msg__text");
  if (!box) return;
  const saved = [...box.childNodes];
  const editor = document.createElement("textarea");
  editor.className = "composer__input msg__editor";
  editor.setAttribute("aria-label", "Edit message");
  editor.maxLength = MAX_MESSAGE_CHARS;
  editor.value = text;
  box.replaceChildren(editor);
  editor.focus();
  // The editor leaves the page either way: focus stays on the message, not lost to <body>.
  const refocus = () => {
    if (document.activeElement !== document.body && document.activeElement !== null) return;
    msg.tabIndex = -1;
    msg.focus({ preventScroll: true });
  };
  const cancel = () => {
    box.replaceChildren(...saved);
    refocus();
  };
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      cancel();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      const next = editor.value.trim();
      if (!next || next === text) return cancel();
      void save(next).then(refocus, (error) => {
        cancel();
        document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
      });
    }
  });
}
