/**
 * Bookmarks: a user's private list of messages, with an optional note the client encrypts with
 * the user's own key material (the server stores an opaque ≤ 4 KiB blob). Only messages the user
 * can see may be bookmarked (404 otherwise); a second bookmark of the same message is 409
 * BOOKMARK_EXISTS. Listing skips bookmarks whose message the user can no longer see.
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { isUuid, type ActorRef } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { accessMessage } from "./access.ts";
import { viewsOf, type MessageView } from "./queries.ts";
import { decodeBlob, encodeCiphertext, HISTORY_MAX_LIMIT, parseLimit, requireUuid } from "./schemas.ts";

export const MAX_BOOKMARK_NOTE_BYTES = 4096;

export type BookmarkView = { id: string; message_id: string; channel_id: string; note_ciphertext: string | null; created_at: Date; message: MessageView };

export async function addBookmark(deps: AppDeps, actor: ActorRef, input: { message_id?: unknown; note_ciphertext?: unknown }): Promise<BookmarkView> {
  const messageId = requireUuid(input.message_id, "message_id");
  const note = input.note_ciphertext === undefined || input.note_ciphertext === null ? null : decodeBlob(input.note_ciphertext, "note_ciphertext", MAX_BOOKMARK_NOTE_BYTES, "NOTE_TOO_LARGE");
  const now = nowOf(deps);
  return mutate(deps, async (tx) => {
    const access = await accessMessage(tx, actor, messageId, now);
    const row = await tx
      .insertInto("message_bookmarks")
      .values({ id: Bun.randomUUIDv7(), user_id: actor.userId, message_id: access.message.id, note_ciphertext: note, created_at: now })
      .onConflict((oc) => oc.columns(["user_id", "message_id"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ConflictError("You already bookmarked this message.", "BOOKMARK_EXISTS");
    const [message] = await viewsOf(tx, [access.message], actor.userId, now);
    return { id: row.id, message_id: row.message_id, channel_id: access.channel.id, note_ciphertext: encodeCiphertext(row.note_ciphertext), created_at: row.created_at, message: message! };
  });
}

export async function listBookmarks(deps: AppDeps, actor: ActorRef, query: { before?: unknown; limit?: unknown }): Promise<{ bookmarks: BookmarkView[]; has_more: boolean }> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const limit = parseLimit(query.limit ?? HISTORY_MAX_LIMIT);
  let q = db.selectFrom("message_bookmarks").selectAll().where("user_id", "=", actor.userId).orderBy("id", "desc").limit(limit + 1);
  if (query.before !== undefined && query.before !== "") {
    if (typeof query.before !== "string" || !isUuid(query.before)) throw new InvalidInputError("before must be a bookmark id.", { before: "Must be a UUID." }, "INVALID_BEFORE");
    q = q.where("id", "<", query.before.toLowerCase());
  }
  const rows = await q.execute();
  const bookmarks: BookmarkView[] = [];
  for (const row of rows.slice(0, limit)) {
    try {
      const access = await accessMessage(db, actor, row.message_id, now);
      const [message] = await viewsOf(db, [access.message], actor.userId, now);
      bookmarks.push({ id: row.id, message_id: row.message_id, channel_id: access.channel.id, note_ciphertext: encodeCiphertext(row.note_ciphertext), created_at: row.created_at, message: message! });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error; // no longer visible: hidden, not deleted
    }
  }
  return { bookmarks, has_more: rows.length > limit };
}

/** PATCH: replace (or, with null, clear) the note of one's own bookmark; anyone else's is 404. */
export async function updateBookmarkNote(deps: AppDeps, actor: ActorRef, id: string, input: { note_ciphertext?: unknown }): Promise<BookmarkView> {
  if (input.note_ciphertext === undefined) throw new InvalidInputError('The field "note_ciphertext" is required (null clears the note).', { note_ciphertext: "Required." }, "INVALID_NOTE_CIPHERTEXT");
  const note = input.note_ciphertext === null ? null : decodeBlob(input.note_ciphertext, "note_ciphertext", MAX_BOOKMARK_NOTE_BYTES, "NOTE_TOO_LARGE");
  const now = nowOf(deps);
  return mutate(deps, async (tx) => {
    const row = isUuid(id)
      ? await tx.updateTable("message_bookmarks").set({ note_ciphertext: note }).where("id", "=", id.toLowerCase()).where("user_id", "=", actor.userId).returningAll().executeTakeFirst()
      : undefined;
    if (!row) throw new NotFoundError("No such bookmark.", "BOOKMARK_NOT_FOUND");
    let access;
    try {
      access = await accessMessage(tx, actor, row.message_id, now);
    } catch (error) {
      // Hidden from the list once the message is out of sight: the same for its note.
      if (error instanceof NotFoundError) throw new NotFoundError("No such bookmark.", "BOOKMARK_NOT_FOUND");
      throw error;
    }
    const [message] = await viewsOf(tx, [access.message], actor.userId, now);
    return { id: row.id, message_id: row.message_id, channel_id: access.channel.id, note_ciphertext: encodeCiphertext(row.note_ciphertext), created_at: row.created_at, message: message! };
  });
}

export async function deleteBookmark(deps: AppDeps, actor: ActorRef, id: string): Promise<void> {
  const removed = isUuid(id)
    ? await dbOf(deps).deleteFrom("message_bookmarks").where("id", "=", id.toLowerCase()).where("user_id", "=", actor.userId).returning("id").executeTakeFirst()
    : undefined;
  if (!removed) throw new NotFoundError("No such bookmark.", "BOOKMARK_NOT_FOUND");
}
