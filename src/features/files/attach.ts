/**
 * Files carried by messages (docs/files.md "Attaching"). A send may name `file_ids`: uploads
 * that are complete, by the sender, for the same channel, not carried by another message. The
 * server links the ids to the message (ids only: the key, name and type are inside the
 * ciphertext). Deleting the message (or a ban purge) releases the files: their quota returns at
 * once and the files job removes the blobs.
 */
import { InvalidInputError } from "../../errors.ts";
import type { Executor } from "../../db/tx.ts";
import { MAX_FILES_PER_MESSAGE } from "./limits.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalidFileIds(message: string): InvalidInputError {
  return new InvalidInputError(message, { file_ids: message }, "INVALID_FILE_IDS");
}

/** `file_ids` of a send: absent = none; otherwise up to 10 distinct UUIDs. */
export function parseFileIds(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_FILES_PER_MESSAGE) throw invalidFileIds(`file_ids must be a list of at most ${MAX_FILES_PER_MESSAGE} file ids.`);
  const ids = value.map((v) => {
    if (typeof v !== "string" || !UUID.test(v)) throw invalidFileIds("file_ids must be file ids (UUIDs).");
    return v.toLowerCase();
  });
  if (new Set(ids).size !== ids.length) throw invalidFileIds("file_ids lists a file twice.");
  return ids;
}

/**
 * Inside the send's transaction, after the message row is written: links the files to it, or
 * throws (rolling the message back) when one is not an attachable upload of this sender for
 * this channel. Rows are locked first, so a concurrent expiry or cancel cannot slip between.
 */
export async function attachFiles(tx: Executor, ids: string[], target: { messageId?: string; scheduledMessageId?: string; senderId: string; channelId: string }): Promise<void> {
  if (ids.length === 0) return;
  const rows = await tx
    .selectFrom("files")
    .select(["id", "uploader_id", "channel_id", "completed_at", "message_id", "scheduled_message_id", "released_at"])
    .where("id", "in", ids)
    .orderBy("id")
    .forUpdate()
    .execute();
  const usable = rows.filter(
    (r) =>
      r.uploader_id === target.senderId &&
      r.channel_id === target.channelId &&
      r.completed_at !== null &&
      r.message_id === null &&
      r.released_at === null &&
      // A scheduled message's files go out with it (delivery names them again); nothing else takes them.
      (r.scheduled_message_id === null || (target.messageId !== undefined && target.scheduledMessageId === r.scheduled_message_id)),
  );
  if (usable.length !== ids.length) throw invalidFileIds("A file in file_ids is not a complete upload of yours for this channel, or is already in a message.");
  const update = tx.updateTable("files").where("id", "in", ids);
  if (target.messageId) await update.set({ message_id: target.messageId }).execute();
  else await update.set({ scheduled_message_id: target.scheduledMessageId! }).execute();
}

/** The files of a scheduled message, for its delivery. */
export async function listScheduledFileIds(db: Executor, scheduledMessageId: string): Promise<string[]> {
  const rows = await db.selectFrom("files").select("id").where("scheduled_message_id", "=", scheduledMessageId).orderBy("id").execute();
  return rows.map((r) => r.id);
}

/** Message deletion and ban purges (eraseMessages): the files' quota returns now, the job removes the blobs. */
export async function releaseFilesOf(tx: Executor, messageIds: string[], now: Date): Promise<void> {
  if (messageIds.length === 0) return;
  await tx.updateTable("files").set({ released_at: now }).where("message_id", "in", messageIds).where("released_at", "is", null).execute();
}
