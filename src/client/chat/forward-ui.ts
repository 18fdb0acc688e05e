// Forward a message (issue 17 §6), in the extras chunk: a dialog lists the conversations the user
// can post in (GET /api/switcher: channels with can_send, DMs), filtered as they type; picking one
// re-encrypts the text for that conversation's readers through the normal send path
// (ExtrasContext.forwardTo), marked "forwarded" inside the ciphertext with the original author's
// name. Files are not forwarded: an upload belongs to one message of one channel (docs/files.md).
import type { ExtrasContext } from "./extras-types.ts";
import type { Scheme } from "./types.ts";
import { button, field, formError, h, openDialog } from "./ui-kit.ts";

type Target = { id: string; label: string; scheme: Scheme };
type SwitcherAnswer = {
  channels: { id: string; name: string; community_name: string; can_send: boolean }[];
  dms: { channel_id: string; name: string; kind: string; can_send: boolean }[];
};

export async function openForward(ctx: ExtrasContext, source: { text: string | undefined; author: string; hasFiles: boolean }, opener: HTMLElement): Promise<void> {
  const d = openDialog("Forward message", opener, { wide: true });
  const text = source.text;
  if (text === undefined) {
    const e = formError();
    d.body.append(e.el);
    e.set("This message is not decrypted on this device, so it cannot be forwarded.");
    return;
  }
  d.dialog.classList.add("forward-dialog");
  const quote = h("blockquote", "forward-dialog__quote", text.length > 200 ? `${text.slice(0, 200)}…` : text || "(no text)");
  const note = h("p", "field__hint", source.hasFiles ? "Only the text is forwarded: files stay with the original message." : "It is encrypted again for the readers of the conversation you pick.");
  const search = field("Find a conversation", h("input", "input"), "Channels you can post in and your direct messages.");
  search.control.type = "search";
  search.control.autocomplete = "off";
  search.control.maxLength = 64;
  const list = h("ul", "forward-dialog__list");
  list.setAttribute("aria-label", "Conversations");
  const error = formError();
  const status = h("p", "muted");
  status.setAttribute("role", "status");
  d.body.append(quote, note, search.wrap, status, list, error.el);
  const cancel = button("Cancel", "btn btn--ghost");
  cancel.addEventListener("click", () => d.close());
  d.footer.append(cancel);
  let targets: Target[] = [];
  const render = () => {
    const q = search.control.value.trim().toLowerCase();
    const shown = targets.filter((t) => !q || t.label.toLowerCase().includes(q)).slice(0, 50);
    list.replaceChildren(
      ...shown.map((t) => {
        const li = h("li");
        const b = button(t.label, "btn btn--ghost forward-dialog__target");
        b.setAttribute("aria-label", `Forward to ${t.label}`);
        b.addEventListener("click", () => void send(t, b));
        li.append(b);
        return li;
      }),
    );
    status.textContent = shown.length ? "" : "No conversation matches.";
  };
  const send = async (t: Target, b: HTMLButtonElement) => {
    error.set(null);
    for (const x of list.querySelectorAll("button")) x.disabled = true;
    status.textContent = `Forwarding to ${t.label}…`;
    try {
      await ctx.forwardTo(t.id, t.scheme, text, source.author);
      d.close();
      ctx.notify(`Forwarded to ${t.label}.`);
    } catch (e) {
      status.textContent = "";
      error.set(`Not forwarded: ${(e as Error).message}`);
      for (const x of list.querySelectorAll("button")) x.disabled = false;
      b.focus();
    }
  };
  search.control.addEventListener("input", render);
  search.control.focus();
  status.textContent = "Loading your conversations…";
  try {
    const a = await ctx.call<SwitcherAnswer>("GET", "/api/switcher");
    targets = [
      ...a.dms.filter((x) => x.can_send).map((x) => ({ id: x.channel_id, label: `${x.kind === "dm" ? "DM" : "Group"}: ${x.name}`, scheme: "pw" as const })),
      ...a.channels.filter((x) => x.can_send).map((x) => ({ id: x.id, label: `#${x.name} (${x.community_name})`, scheme: "sk" as const })),
    ];
    render();
  } catch (e) {
    status.textContent = "";
    error.set(`Your conversations could not be loaded: ${(e as Error).message}`);
  }
}
