// "Report message" and "Delete message", from the message menu (extras chunk). Reporting reuses
// the page's report dialog (src/features/communities/report-dialog.tsx): it switches the form to
// the message (target_type=message, the member list disabled) and back when the dialog closes.
// The text the reporter saw is pre-filled in "What you saw": it is their claim, shared with the
// moderators only if they send it (the server cannot read messages).
import { button, h, openDialog } from "./ui-kit.ts";

export function openReportMessage(messageId: string, author: string, text: string | undefined, opener: HTMLElement): boolean {
  const dialog = document.querySelector<HTMLDialogElement>("dialog[data-report-dialog]");
  const form = dialog?.querySelector("form");
  if (!dialog || !form) return false;
  const q = <T extends Element>(sel: string) => form.querySelector<T>(sel);
  const type = q<HTMLInputElement>("[data-report-type]");
  const id = q<HTMLInputElement>("[data-report-message-id]");
  const title = dialog.querySelector<HTMLElement>("[data-report-title]");
  const note = q<HTMLElement>("[data-report-message]");
  const members = [...form.querySelectorAll<HTMLElement>("[data-report-member]")];
  const saw = q<HTMLTextAreaElement>("textarea[name=attached_text]");
  if (!type || !id) return false;
  form.reset();
  const setMessageMode = (on: boolean) => {
    type.value = on ? "message" : "user";
    id.value = on ? messageId : "";
    id.disabled = !on;
    for (const m of members) {
      m.hidden = on;
      if (m instanceof HTMLSelectElement) m.disabled = on;
    }
    if (note) {
      note.hidden = !on;
      note.textContent = on ? `A message by ${author}.` : "";
    }
    if (title) title.textContent = on ? "Report a message" : "Report a member";
  };
  setMessageMode(true);
  if (saw && text) saw.value = text.slice(0, saw.maxLength > 0 ? saw.maxLength : 4000);
  dialog.addEventListener(
    "close",
    () => {
      setMessageMode(false);
      form.reset();
      // The "Report" button sat in the More… list, which closed: its toggle takes the focus.
      const back = opener.checkVisibility() ? opener : opener.closest(".msg__actions")?.querySelector<HTMLElement>("[aria-controls]");
      back?.focus();
    },
    { once: true },
  );
  dialog.showModal();
  q<HTMLTextAreaElement>("textarea[name=reason]")?.focus();
  return true;
}

/** Resolves true when the user confirms deleting the message (names what will happen). */
export function confirmDeleteMessage(opener: HTMLElement): Promise<boolean> {
  return new Promise((resolve) => {
    const d = openDialog("Delete this message?", opener);
    d.body.append(h("p", undefined, "It disappears for everyone in this conversation, on every device, and its replies lose their quote. This cannot be undone."));
    let yes = false;
    const cancel = button("Cancel", "btn btn--ghost");
    const go = button("Delete message", "btn btn--danger");
    cancel.addEventListener("click", d.close);
    go.addEventListener("click", () => {
      yes = true;
      d.close();
    });
    d.footer.append(cancel, go);
    d.dialog.addEventListener("close", () => resolve(yes));
    cancel.focus();
  });
}
