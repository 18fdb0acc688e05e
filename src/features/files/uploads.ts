/**
 * Resumable upload sessions (docs/files.md "Uploading"). The client encrypts in the browser and
 * sends ciphertext in numbered parts; the server never holds a part in memory (it streams into
 * the blob store) and never sees a plaintext byte.
 *
 *  - start: the declared ciphertext size is checked against MAX_FILE_SIZE_MB plus the AEAD
 *    overhead of the declared chunk size, then the size is reserved against UPLOAD_QUOTA_MB in
 *    one transaction that locks the uploader's row: concurrent starts of one user queue there,
 *    so their sum can never pass the quota. Refusals are 413 with a code, before any part.
 *  - part n: streamed into the blob store under the session's blob id, refused mid-stream past
 *    its expected size (413 PART_TOO_LARGE; the session is then cancelled: a client that sends
 *    more than it declared gets nothing stored and nothing charged), and acknowledged by a row in
 *    file_parts. Parts go in order (n ≤ number acknowledged); a part sent again replaces itself
 *    whole (a retry whose acknowledgement was lost).
 *  - status: which parts are acknowledged, for a client resuming after a dropped connection.
 *  - sessions expire 24 h after their start unless a message carries the file (files job).
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError, UnauthenticatedError } from "../../errors.ts";
import { MemoryRateLimitStore, type RateLimitStore } from "../../http/rate-limit.ts";
import { newBlobId, parseBlobId, type BlobId } from "../../blobs/index.ts";
import type { Executor } from "../../db/tx.ts";
import { accessChannel, isUuid, type ActorRef } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { checkMayPost } from "../messages/index.ts";
import { ciphertextSizeOf, expectedPartSize, MAX_ATTACHMENT_CHUNK_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_ATTACHMENT_CHUNK_SIZE, AEAD_TAG_LENGTH, ATTACHMENT_CHUNK_SIZE, UPLOAD_RATE, UPLOAD_SESSION_TTL_MS } from "./limits.ts";
import { findFile, listParts, type FileRow } from "./queries.ts";
import { trackTransfer } from "./transfers.ts";

export type StartUploadInput = { channel_id: string; size: number; part_size: number; chunk_size?: number };

export type UploadView = {
  id: string;
  channel_id: string;
  size: number;
  chunk_size: number;
  part_size: number;
  part_count: number;
  parts: { part: number; size: number }[];
  complete: boolean;
  attached: boolean;
  created_at: Date;
  expires_at: Date;
};

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

/** One token per session start and per part, per user (shared through Redis when REDIS_URL is set). */
export async function takeUploadToken(deps: AppDeps, actor: ActorRef): Promise<void> {
  const taken = await rateStoreOf(deps).take(`uploads:${actor.userId}`, deps.rateLimits?.uploads ?? UPLOAD_RATE, nowOf(deps).getTime());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "Too many uploads. Try again shortly.", "UPLOAD_RATE_LIMITED");
}

function tooLarge(code: string, message: string, details: Record<string, unknown>): AppError {
  return new AppError(code, 413, message, details);
}

/** The largest ciphertext a file of MAX_FILE_SIZE_MB plaintext bytes has in chunks of `chunkSize`. */
export function maxCiphertextSize(deps: AppDeps, chunkSize: number): number {
  return ciphertextSizeOf(deps.config.files.maxFileSizeBytes, chunkSize);
}

export async function startUpload(deps: AppDeps, actor: ActorRef, input: StartUploadInput): Promise<UploadView> {
  await takeUploadToken(deps, actor);
  const chunkSize = input.chunk_size ?? ATTACHMENT_CHUNK_SIZE;
  if (chunkSize < MIN_ATTACHMENT_CHUNK_SIZE || chunkSize > MAX_ATTACHMENT_CHUNK_SIZE) throw new InvalidInputError(`chunk_size must be ${MIN_ATTACHMENT_CHUNK_SIZE}–${MAX_ATTACHMENT_CHUNK_SIZE}.`, { chunk_size: "Out of range." }, "INVALID_CHUNK_SIZE");
  const sealed = chunkSize + AEAD_TAG_LENGTH;
  if (input.part_size % sealed !== 0 || input.part_size > MAX_PART_SIZE) {
    throw new InvalidInputError(`part_size must be a multiple of ${sealed} (chunk_size + ${AEAD_TAG_LENGTH}) and at most ${MAX_PART_SIZE}.`, { part_size: "Not a whole number of chunks, or too large." }, "INVALID_PART_SIZE");
  }
  // Nothing is read yet: the declared size alone decides.
  const max = maxCiphertextSize(deps, chunkSize);
  if (input.size > max) throw tooLarge("FILE_TOO_LARGE", `Files may be at most ${deps.config.files.maxFileSizeBytes / 1024 / 1024} MB.`, { maxBytes: max });
  const partCount = Math.ceil(input.size / input.part_size);
  if (partCount > MAX_PARTS) throw new InvalidInputError(`A file has at most ${MAX_PARTS} parts: use larger parts.`, { part_size: "Too many parts." }, "TOO_MANY_PARTS");
  const now = nowOf(deps);
  const db = dbOf(deps);
  const access = await accessChannel(db, actor, input.channel_id, now);
  await checkMayPost(db, access, actor);
  const quota = deps.config.files.uploadQuotaBytes;
  const row = await db.transaction().execute(async (tx) => {
    // The uploader's row serialises their session starts: the sum below is read after every
    // concurrent start of theirs committed, so 20 parallel starts cannot overshoot the quota.
    await tx.selectFrom("users").select("id").where("id", "=", actor.userId).forNoKeyUpdate().executeTakeFirstOrThrow();
    if (quota > 0) {
      const used = await usedBytes(tx, actor.userId);
      if (used + input.size > quota) throw tooLarge("UPLOAD_QUOTA_EXCEEDED", "Your upload quota is used up. Delete files or messages with files to free some.", { usedBytes: used, quotaBytes: quota });
    }
    return tx
      .insertInto("files")
      .values({ id: crypto.randomUUID(), blob_id: newBlobId(), uploader_id: actor.userId, channel_id: access.channel.id, size: input.size, chunk_size: chunkSize, part_size: input.part_size, part_count: partCount, created_at: now, expires_at: new Date(now.getTime() + UPLOAD_SESSION_TTL_MS) })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  return viewOf(row, []);
}

/** Bytes a user has reserved or stored: every file of theirs not released yet. */
export async function usedBytes(db: Executor, userId: string): Promise<number> {
  const row = await db.selectFrom("files").select((eb) => eb.fn.coalesce(eb.fn.sum<string>("size"), eb.val("0")).as("n")).where("uploader_id", "=", userId).where("released_at", "is", null).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function getQuota(deps: AppDeps, actor: ActorRef): Promise<{ used_bytes: number; quota_bytes: number; max_file_bytes: number }> {
  return { used_bytes: await usedBytes(dbOf(deps), actor.userId), quota_bytes: deps.config.files.uploadQuotaBytes, max_file_bytes: deps.config.files.maxFileSizeBytes };
}

function uploadNotFound(): NotFoundError {
  return new NotFoundError("No such upload.", "UPLOAD_NOT_FOUND");
}

/** The actor's own upload session that has not expired; anything else is 404. */
async function accessUpload(db: Executor, actor: ActorRef, id: string, now: Date): Promise<FileRow> {
  const row = isUuid(id) ? await findFile(db, id.toLowerCase()) : undefined;
  if (!row || row.uploader_id !== actor.userId || row.released_at) throw uploadNotFound();
  if (!row.message_id && !row.scheduled_message_id && row.expires_at.getTime() <= now.getTime()) throw uploadNotFound();
  return row;
}

export async function getUpload(deps: AppDeps, actor: ActorRef, id: string): Promise<UploadView> {
  const db = dbOf(deps);
  const row = await accessUpload(db, actor, id, nowOf(deps));
  return viewOf(row, await listParts(db, row.id));
}

/** Cancels an upload not carried by a message: the row goes (quota released), then the blob. */
export async function cancelUpload(deps: AppDeps, actor: ActorRef, id: string): Promise<void> {
  const db = dbOf(deps);
  const row = await accessUpload(db, actor, id, nowOf(deps));
  if (row.message_id || row.scheduled_message_id) throw new ConflictError("This file is part of a message: delete the message instead.", "FILE_ATTACHED");
  const removed = await db.deleteFrom("files").where("id", "=", row.id).where("message_id", "is", null).where("scheduled_message_id", "is", null).returning("blob_id").executeTakeFirst();
  if (!removed) throw new ConflictError("This file is part of a message: delete the message instead.", "FILE_ATTACHED");
  await deps.blobs!.deleteBlob(parseBlobId(removed.blob_id));
}

export type PartResult = { part: number; size: number; parts_received: number; complete: boolean };

/**
 * Streams one part into the blob store. `body` is the request body (never buffered here);
 * `declared` its Content-Length when it had one (over the part's size: 413 before reading).
 */
export async function writeUploadPart(deps: AppDeps, actor: ActorRef & { sessionId?: string }, id: string, partText: string, request: Request): Promise<PartResult> {
  await takeUploadToken(deps, actor);
  const db = dbOf(deps);
  const now = nowOf(deps);
  const row = await accessUpload(db, actor, id, now);
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/octet-stream") throw new AppError("UNSUPPORTED_MEDIA_TYPE", 415, "Parts are sent as application/octet-stream.");
  const part = Number(partText);
  if (!Number.isInteger(part) || part < 0 || part >= row.part_count) throw new InvalidInputError(`This upload has parts 0–${row.part_count - 1}.`, { part: "Out of range." }, "INVALID_PART");
  if (row.completed_at) throw new ConflictError("This upload is complete: its parts cannot change.", "UPLOAD_COMPLETE");
  const acknowledged = await listParts(db, row.id);
  if (part > acknowledged.length) throw new ConflictError(`Parts are sent in order: the next one is ${acknowledged.length}.`, "PART_OUT_OF_ORDER");
  const size = Number(row.size);
  const expected = expectedPartSize(size, row.part_size, part);
  const length = request.headers.get("content-length");
  if (length !== null && request.headers.get("transfer-encoding") === null && /^\d+$/.test(length) && Number(length) > expected) {
    throw tooLarge("PART_TOO_LARGE", `Part ${part} is ${expected} bytes.`, { expectedBytes: expected });
  }
  if (!request.body) throw partIncomplete(part, expected, 0);
  const blobId = parseBlobId(row.blob_id) as BlobId;
  let seen = 0;
  const exact = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (seen < expected) controller.error(partIncomplete(part, expected, seen));
      },
    }),
  );
  const transfer = trackTransfer(deps, actor);
  try {
    await deps.blobs!.writePart(blobId, part, exact, { maxBytes: expected, signal: AbortSignal.any([request.signal, transfer.signal]) });
  } catch (error) {
    if (transfer.signal.aborted) throw new UnauthenticatedError("Your session was signed out.", "SESSION_REVOKED");
    if (error instanceof AppError && error.status === 413) {
      // More than declared: the session is cancelled whole (nothing stored, nothing charged).
      await db.deleteFrom("files").where("id", "=", row.id).where("message_id", "is", null).where("scheduled_message_id", "is", null).execute();
      await deps.blobs!.deleteBlob(blobId).catch(() => {});
      throw tooLarge("PART_TOO_LARGE", `Part ${part} is ${expected} bytes; the upload was cancelled.`, { expectedBytes: expected });
    }
    if (error instanceof AppError) throw error;
    // The body stream failed: the client went away mid-part (it resumes from the status).
    if (request.signal.aborted || seen < expected) throw partIncomplete(part, expected, seen);
    throw error;
  } finally {
    transfer.done();
  }
  const result = await db.transaction().execute(async (tx) => {
    const live = await tx.selectFrom("files").select(["id", "part_count"]).where("id", "=", row.id).forUpdate().executeTakeFirst();
    if (!live) return undefined; // expired or cancelled while the part streamed: the files job removes the blob
    await tx.insertInto("file_parts").values({ file_id: row.id, part, size: expected }).onConflict((oc) => oc.columns(["file_id", "part"]).doUpdateSet({ size: expected })).execute();
    const counted = await tx.selectFrom("file_parts").select((eb) => eb.fn.countAll<string>().as("n")).where("file_id", "=", row.id).executeTakeFirstOrThrow();
    const received = Number(counted.n);
    const complete = received === live.part_count;
    if (complete) await tx.updateTable("files").set({ completed_at: now }).where("id", "=", row.id).where("completed_at", "is", null).execute();
    return { part, size: expected, parts_received: received, complete };
  });
  if (!result) throw uploadNotFound();
  return result;
}

function partIncomplete(part: number, expected: number, got: number): AppError {
  return new InvalidInputError(`Part ${part} is ${expected} bytes; ${got} arrived. Send it again.`, { part: "Incomplete." }, "PART_INCOMPLETE");
}

export function viewOf(row: FileRow, parts: { part: number; size: number }[]): UploadView {
  return {
    id: row.id,
    channel_id: row.channel_id,
    size: Number(row.size),
    chunk_size: row.chunk_size,
    part_size: row.part_size,
    part_count: row.part_count,
    parts,
    complete: row.completed_at !== null,
    attached: row.message_id !== null || row.scheduled_message_id !== null,
    created_at: row.created_at,
    expires_at: row.expires_at,
  };
}
