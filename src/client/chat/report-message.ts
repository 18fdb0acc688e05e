// "Report message" and "Delete message", from the message menu (extras chunk). Reporting reuses
// the page's report dialog (src/features/communities/report-dialog.tsx): it switches the form to
// the message (target_type=message, the member list disabled) and back when the dialog closes.
// The text the reporter saw is pre-filled in "What you saw": it is their claim, shared with the
// moderators only if they send it (the server cannot read messages). A message's files are
// listed unticked: a ticked file is decrypted here and sent with the report (the JSON API then
// creates the report and uploads each file: POST /api/reports, POST /api/reports/{id}/files).
import type { FilesModule } from "./files-types.ts";
import { button, h, openDialog } from "./ui-kit.ts";

/** moderation/report-files.ts REPORT_FILES_MAX_BYTES: all of a report's files together. */
const REPORT_FILES_MAX = 10 * 1024 * 1024;

type Described = { name: string; size: number };

function described(raw: unknown): Described | null {
  const o = raw as { name?: unknown; size?: unknown } | null;
  return o && typeof o.name === "string" && typeof o.size === "number" ? { name: o.name, size: o.size } : null;
}

async function postJson(path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const out = (await res.json().catch(() => null)) as { id?: string; error?: { message?: string } } | null;
  if (!res.ok || !out?.id) throw new Error(out?.error?.message ?? `The report was not sent (${res.status}).`);
  return { id: out.id };
}

/** Fills the dialog's list of the message's files; returns what to do on submit, or null (nothing to attach). */
function wireFiles(dialog: HTMLDialogElement, form: HTMLFormElement, messageId: string, files: readonly unknown[] | undefined, loadFilesUi?: () => Promise<FilesModule>): (() => void) | null {
  const box = form.querySelector<HTMLElement>("[data-report-files]");
  const list = form.querySelector<HTMLElement>("[data-report-files-list]");
  const status = form.querySelector<HTMLElement>("[data-report-files-status]");
  if (!box || !list || !status || !loadFilesUi) return null;
  list.replaceChildren();
  status.textContent = "";
  const entries = (files ?? []).map((raw) => ({ raw, d: described(raw) })).filter((e): e is { raw: unknown; d: Described } => e.d !== null);
  box.hidden = entries.length === 0;
  if (!entries.length) return null;
  const boxes = entries.map((e, i) => {
    const li = h("li", "report-pick__item");
    const label = h("label", "report-pick__label");
    const input = h("input");
    input.type = "checkbox";
    input.value = String(i);
    input.dataset.reportFile = "";
    const mb = e.d.size / 1024 / 1024;
    label.append(input, ` ${e.d.name} (${mb < 0.1 ? `${Math.max(1, Math.round(e.d.size / 1024))} KB` : `${mb.toFixed(1)} MB`})`);
    if (e.d.size > REPORT_FILES_MAX) {
      input.disabled = true;
      label.append(" — too large to attach");
    }
    li.append(label);
    list.append(li);
    return input;
  });
  const submit = form.querySelector<HTMLButtonElement>("button[type=submit]");
  // Capture on the dialog: runs before htmx's submit handler on the form, which then never sees it.
  const onSubmit = async (event: Event) => {
    const picked = boxes.filter((b) => b.checked).map((b) => entries[Number(b.value)]!);
    if (!picked.length || event.target !== form) return; // no file: the form posts as ever
    event.preventDefault();
    event.stopPropagation();
    if (!form.reportValidity()) return;
    const total = picked.reduce((n, e) => n + e.d.size, 0);
    if (total > REPORT_FILES_MAX) return void (status.textContent = `The ticked files take ${(total / 1024 / 1024).toFixed(1)} MB: at most 10 MB go with a report.`);
    if (submit) submit.disabled = true;
    try {
      const data = new FormData(form);
      status.textContent = "Decrypting the files…";
      const m = await loadFilesUi();
      const plain = [];
      for (const e of picked) plain.push(await m.decryptSent(e.raw));
      status.textContent = "Sending the report…";
      const { id } = await postJson("/api/reports", { community_id: data.get("community_id"), target_type: "message", target_id: messageId, reason: data.get("reason"), attached_text: data.get("attached_text") || null });
      for (const [i, f] of plain.entries()) {
        status.textContent = `Sending file ${i + 1} of ${plain.length}…`;
        const res = await fetch(`/api/reports/${id}/files?${new URLSearchParams({ name: f.name, type: f.type })}`, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/octet-stream" }, body: f.blob });
        if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? `A file was not sent (${res.status}).`);
      }
      dialog.close();
      document.dispatchEvent(new CustomEvent("chat:notice", { detail: `Report sent to the moderators with ${plain.length === 1 ? "1 file" : `${plain.length} files`}.` }));
    } catch (error) {
      status.textContent = `Not sent: ${(error as Error).message || "something went wrong"}`;
    } finally {
      if (submit) submit.disabled = false;
    }
  };
  const listener = (event: Event) => void onSubmit(event);
  dialog.addEventListener("submit", listener, true);
  return () => {
    dialog.removeEventListener("submit", listener, true);
    box.hidden = true;
    list.replaceChildren();
    status.textContent = "";
  };
}

export function openReportMessage(messageId: string, author: string, text: string | undefined, opener: HTMLElement, files?: readonly unknown[], loadFilesUi?: () => Promise<FilesModule>): boolean {
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
  const unwire = wireFiles(dialog, form, messageId, files, loadFilesUi);
  dialog.addEventListener(
    "close",
    () => {
      unwire?.();
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
