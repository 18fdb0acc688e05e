// Bookmarks with a private note (docs/crypto.md "Bookmark notes"): the note is encrypted with
// AES-256-GCM (WebCrypto) under the user's notes key (engine.archivedKey: kept in the message-key
// archive, so it reaches the user's other devices through the key backup). Wire format, base64url
// of JSON {v: 1, n: nonce, c: ciphertext}; the associated data names the message id, so the
// server cannot move a note onto another message's bookmark.
import type { ExtrasContext } from "./extras-types.ts";
import { b64u, button, field, formatWhen, formError, h, openDialog, openRemovableList, unwrapJson, wrapJson } from "./ui-kit.ts";

async function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, ["encrypt", "decrypt"]);
}

const NOTE_KEY = "note-key:v1";
const ad = (messageId: string) => new TextEncoder().encode(`hearth-note-v1:${messageId}`);

export async function encryptNote(ctx: ExtrasContext, messageId: string, note: string): Promise<string> {
  const key = (await ctx.engine.archivedKey(NOTE_KEY, true))!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const { describeLimit, MAX_BOOKMARK_NOTE_CHARS } = ctx.limits;
  if (note.length > MAX_BOOKMARK_NOTE_CHARS) throw new Error(describeLimit("A note", MAX_BOOKMARK_NOTE_CHARS));
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

/** The bookmark whose note the dialog edits, with its current note (decrypted, "" if none). */
type Editing = { id: string; note: string };

type NoteOutcome = { status: "ok"; text: string } | { status: "unreadable"; reason: string };

/**
 * The bookmark's note: "" without one. Unreadable when this device lacks the notes key, or when
 * the note is longer than the form allows (only a modified client writes that: not shown).
 */
async function noteText(ctx: ExtrasContext, b: Bookmark): Promise<NoteOutcome> {
  if (!b.note_ciphertext) return { status: "ok", text: "" };
  const text = await decryptNote(ctx, b.message_id, b.note_ciphertext).catch(() => null);
  if (text === null) return { status: "unreadable", reason: "Note: written on a device whose notes key this device lacks (restore your key backup)." };
  const checked = ctx.limits.checkReceivedText("Note", text, ctx.limits.MAX_BOOKMARK_NOTE_CHARS);
  return checked.status === "ok" ? checked : { status: "unreadable", reason: checked.reason };
}

/** The user's bookmark of a message (paging through the list), or null. */
async function findBookmark(ctx: ExtrasContext, messageId: string): Promise<Bookmark | null> {
  let before = "";
  for (let page = 0; page < 50; page++) {
    const r = await ctx.call<{ bookmarks: Bookmark[]; has_more: boolean }>("GET", `/api/bookmarks${before}`);
    const found = r.bookmarks.find((b) => b.message_id === messageId);
    if (found) return found;
    if (!r.has_more || r.bookmarks.length === 0) return null;
    before = `?before=${r.bookmarks[r.bookmarks.length - 1]!.id}`;
  }
  return null;
}

/**
 * From the message menu: bookmark with an optional private note. With `editing` (the Bookmarks
 * list's "Edit note"), or once the server says the message is already bookmarked, the same
 * dialog edits that bookmark's note instead (PATCH; an empty note clears it).
 */
export function openBookmarkDialog(ctx: ExtrasContext, messageId: string, opener: HTMLElement, editing?: Editing, onSaved?: (b: Bookmark, note: string) => void): void {
  const d = openDialog(editing ? "Edit bookmark note" : "Bookmark message", opener, { form: true });
  const note = field(editing ? "Note" : "Note (optional)", Object.assign(h("textarea", "textarea"), { rows: 3, maxLength: ctx.limits.MAX_BOOKMARK_NOTE_CHARS }), "Only you can read it: it is encrypted on this device and reaches your other devices through your key backup.");
  const error = formError();
  const save = button(editing ? "Save note" : "Save bookmark", "btn btn--primary", "submit");
  const cancel = button("Cancel", "btn btn--secondary");
  let editId = editing?.id ?? null;
  const toEdit = (e: Editing) => {
    editId = e.id;
    save.textContent = "Save note";
    if (!note.control.value.trim()) note.control.value = e.note;
  };
  if (editing) note.control.value = editing.note;
  cancel.addEventListener("click", d.close);
  d.body.append(note.wrap, error.el);
  d.footer.append(cancel, save);
  note.control.focus();
  d.form!.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      error.set(null);
      save.disabled = true;
      const text = note.control.value.trim();
      try {
        if (editId) {
          const r = await ctx.call<{ bookmark: Bookmark }>("PATCH", `/api/bookmarks/${editId}`, { note_ciphertext: text ? await encryptNote(ctx, messageId, text) : null });
          d.close();
          ctx.notify(text ? "Note saved." : "Note removed.");
          onSaved?.(r.bookmark, text);
          return;
        }
        await ctx.call("POST", "/api/bookmarks", { message_id: messageId, ...(text ? { note_ciphertext: await encryptNote(ctx, messageId, text) } : {}) });
        d.close();
        ctx.notify("Bookmarked.");
      } catch (err) {
        if ((err as { code?: string }).code !== "BOOKMARK_EXISTS") return error.set((err as Error).message);
        const existing = await findBookmark(ctx, messageId).catch(() => null);
        if (!existing) return error.set("This message is already bookmarked. Edit its note from Bookmarks.");
        const current = await noteText(ctx, existing);
        toEdit({ id: existing.id, note: current.status === "ok" ? current.text : "" });
        error.set("This message is already bookmarked. You can edit its note here: Save note replaces it.");
        note.control.focus();
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
      const author = m ? m.sender_name ?? (m.sender_id ? undefined : "Deleted user") : undefined;
      const meta = h("p", "side-list__meta", `${author ? `${author} · ` : ""}${m ? formatWhen(m.created_at) : ""}${b.channel_id === ctx.channelId ? " · this conversation" : ""}`);
      const showNote = (n: NoteOutcome) => {
        noteEl.hidden = n.status === "ok" && n.text === "";
        noteEl.textContent = n.status === "ok" ? `Note: ${n.text}` : n.reason;
      };
      const edit = button("Edit note", "btn btn--ghost btn--sm");
      edit.setAttribute("aria-label", "Edit bookmark note");
      edit.addEventListener("click", () => void (async () => {
        const current = await noteText(ctx, b);
        openBookmarkDialog(ctx, b.message_id, edit, { id: b.id, note: current.status === "ok" ? current.text : "" }, (saved, n) => {
          b.note_ciphertext = saved.note_ciphertext;
          showNote({ status: "ok", text: n });
        });
      })());
      const remove = button("Remove", "btn btn--ghost btn--sm");
      remove.setAttribute("aria-label", "Remove bookmark");
      removable(li, remove, () => ctx.call("DELETE", `/api/bookmarks/${b.id}`));
      const actions = h("div", "side-list__actions");
      actions.append(edit, remove);
      li.append(text, noteEl, meta, actions);
      list.append(li);
      void (async () => {
        if (!m || !m.ciphertext) text.textContent = "This message was deleted.";
        else {
          const o = await ctx.engine.decrypt(m);
          text.textContent = o.status === "ok" ? o.text : o.reason;
        }
        if (b.note_ciphertext) showNote(await noteText(ctx, b));
      })();
    }
  });
}
