// Bookmarks with a private note (docs/crypto.md "Bookmark notes"): the note is encrypted with
// AES-256-GCM (WebCrypto) under the user's notes key (engine.archivedKey: kept in the message-key
// archive, so it reaches the user's other devices through the key backup). Wire format, base64url
// of JSON {v: 1, n: nonce, c: ciphertext}; the associated data names the message id, so the
// server cannot move a note onto another message's bookmark.
import type { ExtrasContext } from "./extras-types.ts";
import { b64u, button, field, formatWhen, formError, h, openDialog, openRemovableList, unwrapJson, wrapJson } from "./ui-kit.ts";

const MAX_NOTE = 1000;

async function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, ["encrypt", "decrypt"]);
}

const NOTE_KEY = "note-key:v1";
const ad = (messageId: string) => new TextEncoder().encode(`hearth-note-v1:${messageId}`);

export async function encryptNote(ctx: ExtrasContext, messageId: string, note: string): Promise<string> {
  const key = (await ctx.engine.archivedKey(NOTE_KEY, true))!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: ad(messageId) }, await aesKey(key), new TextEncoder().encode(note)));
  return wrapJson({ v: 1, n: b64u.encode(iv), c: b64u.encode(ct) });
}

/** null: this device has no notes key, or a different one (made before restoring the backup). */
export async function decryptNote(ctx: ExtrasContext, messageId: string, wire: string): Promise<string | null> {
  const w = unwrapJson<{ v: number; n: string; c: string }>(wire);
  const key = await ctx.engine.archivedKey(NOTE_KEY, false);
  if (!key) return null;
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: b64u.decode(w.n) as BufferSource, additionalData: ad(messageId) }, await aesKey(key), b64u.decode(w.c) as BufferSource);
  return new TextDecoder().decode(pt);
}

/** From the message menu: bookmark with an optional private note. */
export function openBookmarkDialog(ctx: ExtrasContext, messageId: string, opener: HTMLElement): void {
  const d = openDialog("Bookmark message", opener, { form: true });
  const note = field("Note (optional)", Object.assign(h("textarea", "textarea"), { rows: 3, maxLength: MAX_NOTE }), "Only you can read it: it is encrypted on this device and reaches your other devices through your key backup.");
  const error = formError();
  const save = button("Save bookmark", "btn btn--primary", "submit");
  const cancel = button("Cancel", "btn btn--secondary");
  cancel.addEventListener("click", d.close);
  d.body.append(note.wrap, error.el);
  d.footer.append(cancel, save);
  note.control.focus();
  d.form!.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      error.set(null);
      save.disabled = true;
      try {
        const text = note.control.value.trim();
        await ctx.call("POST", "/api/bookmarks", { message_id: messageId, ...(text ? { note_ciphertext: await encryptNote(ctx, messageId, text) } : {}) });
        d.close();
        ctx.notify("Bookmarked.");
      } catch (err) {
        error.set((err as { code?: string }).code === "BOOKMARK_EXISTS" ? "This message is already bookmarked. Remove it from Bookmarks first to change the note." : (err as Error).message);
      } finally {
        save.disabled = false;
      }
    })();
  });
}

interface Bookmark {
  id: string;
  message_id: string;
  channel_id: string;
  note_ciphertext: string | null;
  created_at: string;
  message: unknown;
}

/** "Bookmarks": decrypted message text, the note, and Remove. */
export async function openBookmarkList(ctx: ExtrasContext, opener: HTMLElement): Promise<void> {
  await openRemovableList("Bookmarks", opener, async ({ list, removable }) => {
    const { bookmarks } = await ctx.call<{ bookmarks: Bookmark[] }>("GET", "/api/bookmarks");
    if (bookmarks.length === 0) list.append(h("li", "side-list__empty", "No bookmarks yet. Use “Bookmark” on a message."));
    for (const b of bookmarks) {
      const li = h("li", "side-list__item");
      li.dataset.bookmarkId = b.id;
      const text = h("p", "side-list__text", "Decrypting…");
      const noteEl = h("p", "side-list__note");
      noteEl.hidden = !b.note_ciphertext;
      const m = ctx.normalise(b.message);
      const author = m ? ctx.names.get(m.sender_id) : undefined;
      const meta = h("p", "side-list__meta", `${author ? `${author} · ` : ""}${m ? formatWhen(m.created_at) : ""}${b.channel_id === ctx.channelId ? " · this conversation" : ""}`);
      const remove = button("Remove", "btn btn--ghost btn--sm");
      remove.setAttribute("aria-label", "Remove bookmark");
      removable(li, remove, () => ctx.call("DELETE", `/api/bookmarks/${b.id}`));
      li.append(text, noteEl, meta, remove);
      list.append(li);
      void (async () => {
        if (!m || !m.ciphertext) text.textContent = "This message was deleted.";
        else {
          const o = await ctx.engine.decrypt(m);
          text.textContent = o.status === "ok" ? o.text : o.reason;
        }
        if (b.note_ciphertext) {
          const n = await decryptNote(ctx, b.message_id, b.note_ciphertext).catch(() => null);
          noteEl.textContent = n === null ? "Note: written on a device whose notes key this device lacks (restore your key backup)." : `Note: ${n}`;
        }
      })();
    }
  });
}
