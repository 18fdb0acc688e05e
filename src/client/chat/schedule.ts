// Scheduled messages (docs/messages.md; docs/crypto.md "Scheduled messages"). The text is
// encrypted NOW, like a send, and the server delivers the stored ciphertext at send_at. The
// message key is archived under the client id (the delivered message carries the same client
// id), so this device reads its own scheduled message when it arrives.
import type { ExtrasContext } from "./extras-types.ts";
import { button, field, formatWhen, formError, h, openDialog, openRemovableList, toLocalInput } from "./ui-kit.ts";

const MAX_AHEAD_MS = 30 * 24 * 3600 * 1000;

interface Scheduled {
  id: string;
  channel_id: string;
  client_id: string;
  scheme: "sk" | "pw";
  ciphertext: string;
  sender_device_id: string;
  send_at: string;
  status: "pending" | "sent" | "failed";
  failure_code: string | null;
  created_at: string;
}

const SK_NOTE =
  "Encrypted now with the channel's current key. People who join the channel before it is sent will see “waiting for keys” instead of the text; members who leave before then do not receive it.";
const PW_NOTE = "Encrypted now for the devices in this conversation; a device added before it is sent cannot read it.";

export function openScheduleDialog(ctx: ExtrasContext, opener: HTMLElement): void {
  const d = openDialog("Schedule a message", opener, { form: true });
  const form = d.form!;
  const text = field("Message", Object.assign(h("textarea", "textarea"), { rows: 3, maxLength: ctx.limits.MAX_MESSAGE_CHARS }));
  text.control.value = ctx.input?.value ?? "";
  const now = new Date();
  const whenInput = Object.assign(h("input", "input"), { type: "datetime-local", step: "1", min: toLocalInput(new Date(now.getTime() + 60_000)), max: toLocalInput(new Date(now.getTime() + MAX_AHEAD_MS)) });
  const when = field("Send at", whenInput, "In the future, at most 30 days ahead.");
  const error = formError();
  const submit = button("Schedule", "btn btn--primary", "submit");
  const cancel = button("Cancel", "btn btn--secondary");
  cancel.addEventListener("click", d.close);
  d.body.append(text.wrap, when.wrap, h("p", "field__hint schedule__note", ctx.scheme === "sk" ? SK_NOTE : PW_NOTE), error.el);
  d.footer.append(cancel, submit);
  (text.control.value ? when.control : text.control).focus();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      text.setError(null); when.setError(null); error.set(null);
      const body = text.control.value.trim();
      const at = when.control.value ? new Date(when.control.value) : null;
      if (!body) { text.setError("Write the message first."); return text.control.focus(); }
      if (!at || Number.isNaN(at.getTime())) { when.setError("Pick a date and time."); return when.control.focus(); }
      if (at.getTime() <= Date.now()) { when.setError("Pick a time in the future."); return when.control.focus(); }
      if (at.getTime() > Date.now() + MAX_AHEAD_MS) { when.setError("At most 30 days ahead."); return when.control.focus(); }
      submit.disabled = true;
      try {
        const clientId = crypto.randomUUID();
        const { ciphertext, remember } = await ctx.encryptForReaders(body);
        await remember(`client:${clientId}`);
        await ctx.call("POST", `/api/channels/${ctx.channelId}/scheduled`, {
          client_id: clientId, scheme: ctx.scheme, ciphertext, sender_device_id: ctx.engine.deviceId, send_at: at.toISOString(),
        });
        if (ctx.input && ctx.input.value.trim() === body) {
          ctx.input.value = "";
          ctx.input.dispatchEvent(new Event("input")); // clears the saved draft
        }
        d.close();
        ctx.notify(`Scheduled for ${formatWhen(at)}.`);
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (code.startsWith("SEND_AT") || code === "INVALID_SEND_AT") when.setError((err as Error).message);
        else error.set((err as Error).message);
      } finally {
        submit.disabled = false;
      }
    })();
  });
}

/** "Scheduled": own pending messages (soonest first) with Cancel, then recently processed ones. */
export async function openScheduledList(ctx: ExtrasContext, opener: HTMLElement): Promise<void> {
  await openRemovableList("Scheduled messages", opener, async ({ list, removable }) => {
    const { scheduled } = await ctx.call<{ scheduled: Scheduled[] }>("GET", "/api/scheduled");
    if (scheduled.length === 0) list.append(h("li", "side-list__empty", "Nothing scheduled."));
    for (const s of scheduled) {
      const li = h("li", "side-list__item");
      const textEl = h("p", "side-list__text", "Decrypting…");
      const where = s.channel_id === ctx.channelId ? "this conversation" : "another conversation";
      const status = s.status === "pending" ? `Sends ${formatWhen(s.send_at)}` : s.status === "sent" ? `Sent ${formatWhen(s.send_at)}` : `Not sent (${s.failure_code ?? "error"})`;
      const meta = h("p", "side-list__meta", `${status} · ${where}`);
      const remove = button(s.status === "pending" ? "Cancel" : "Remove", "btn btn--ghost btn--sm");
      remove.setAttribute("aria-label", `${s.status === "pending" ? "Cancel" : "Remove"} scheduled message for ${formatWhen(s.send_at)}`);
      removable(li, remove, () => ctx.call("DELETE", `/api/scheduled/${s.id}`));
      li.append(textEl, meta, remove);
      list.append(li);
      const message = ctx.normalise({ id: `sched:${s.id}`, channel_id: s.channel_id, seq: 0, sender_id: ctx.selfId, sender_device_id: s.sender_device_id, client_id: s.client_id, scheme: s.scheme, ciphertext: s.ciphertext });
      void (message ? ctx.engine.decrypt(message) : Promise.resolve({ status: "failed" as const, reason: "" })).then((o) => {
        textEl.textContent = o.status === "ok" ? o.text : "Encrypted on another device: its text is readable there.";
      });
    }
  });
}
