// Edit history (issue 17 §6), in the extras chunk: "(edited)" on a message opens this dialog. The
// server lists the previous ciphertexts (GET /api/messages/{id}/versions); each is decrypted here
// with the key this device kept for it (engine-versions.ts), oldest first, then the current text.
import type { ExtrasContext } from "./extras-types.ts";
import type { ChatMessage } from "./types.ts";
import { formatWhen, h, openDialog } from "./ui-kit.ts";

type Version = { ciphertext: string; sender_device_id: string | null; created_at: string; replaced_at: string };

export async function openEditHistory(ctx: ExtrasContext, message: ChatMessage, currentText: string | undefined, author: string, opener: HTMLElement): Promise<void> {
  const d = openDialog("Edit history", opener, { wide: true });
  d.dialog.classList.add("edit-history");
  const status = h("p", "muted", "Loading the earlier versions…");
  status.setAttribute("role", "status");
  const list = h("ol", "edit-history__list");
  d.body.append(status, list);
  const item = (label: string, text: string, note?: boolean) => {
    const li = h("li", "edit-history__item");
    li.append(h("p", "edit-history__when", label), h("p", note ? "edit-history__text muted" : "edit-history__text", text));
    list.append(li);
  };
  try {
    const answer = await ctx.call<{ versions: Version[]; has_more: boolean }>("GET", `/api/messages/${message.id}/versions`);
    for (const [i, v] of answer.versions.entries()) {
      const label = `${i === 0 ? "Original" : `Edit ${i}`} · ${formatWhen(v.created_at)}`;
      try {
        // Each version names the device that wrote it (an edit may come from another device).
        const content = await ctx.engine.decryptVersion({ ...message, sender_device_id: v.sender_device_id ?? message.sender_device_id }, v.ciphertext);
        // The received-text limit holds here as in the timeline (engine-read.ts decrypt).
        const shown = content && ctx.limits.checkReceivedText("Message", content.text, ctx.limits.MAX_MESSAGE_CHARS);
        if (!content) item(label, "This device does not hold the key of this version (it was not read here).", true);
        else if (shown?.status === "ok") item(label, shown.text || (content.files?.length ? "(files only)" : "(empty)"));
        else item(label, shown?.reason ?? "", true);
      } catch {
        item(label, "This version can't be decrypted: it was altered or damaged.", true);
      }
    }
    item(`Current · ${formatWhen(message.edited_at ?? message.created_at)}`, currentText ?? "Not decrypted on this device yet.", currentText === undefined);
    status.textContent = `${answer.versions.length + 1} versions of ${author ? `${author}'s` : "this"} message${answer.has_more ? " (the oldest are not listed)" : ""}.`;
  } catch (error) {
    status.setAttribute("role", "alert");
    status.className = "field__error";
    status.textContent = `The edit history could not be loaded: ${(error as Error).message}`;
  }
}
