/**
 * Stored public images: re-encoded bytes in the blob store, one `images` row each. The blob is
 * written first (outside the transaction: it can take a moment), the row inside the caller's
 * transaction; a failed transaction's blob is deleted at once, and otherwise found by the files
 * job's orphan walk (which keeps any blob that has an images row: blobIdsWithImages).
 * Removing an image deletes its row in the caller's transaction and its blob after COMMIT.
 */
import { createHash } from "node:crypto";
import type { AppDeps } from "../../deps.ts";
import type { Executor, Tx } from "../../db/tx.ts";
import { newBlobId, parseBlobId } from "../../blobs/index.ts";
import { ServiceUnavailableError } from "../../errors.ts";
import { reencodeImage, type Crop, type ImageKind } from "./codec.ts";
import { publicImageUrl } from "../../shared/image-limits.ts";

export type StoredImage = { id: string; blobId: string; sha256: string; width: number; height: number; animated: boolean };

/** The versioned URL: the content hash is in the path, so a changed image is a new URL. */
export function imageUrl(image: { id: string; sha256: string } | null | undefined): string | null {
  return image ? publicImageUrl(image.id, image.sha256) : null;
}

/** Re-encodes and writes the blob; returns what the row needs. Throws IMAGE_* before anything is stored. */
export async function encodeAndWrite(deps: AppDeps, bytes: Uint8Array, kind: ImageKind, crop?: Crop) {
  const encoded = await reencodeImage(bytes, kind, crop);
  const blobs = deps.blobs;
  if (!blobs) throw new ServiceUnavailableError("Image storage is not available.");
  const blobId = newBlobId();
  await blobs.writePart(blobId, 0, encoded.bytes);
  const sha256 = createHash("sha256").update(encoded.bytes).digest("hex");
  return { blobId, sha256, encoded };
}

/** Inserts the row for a written blob (inside the caller's transaction). */
export async function insertImage(
  tx: Tx,
  written: Awaited<ReturnType<typeof encodeAndWrite>>,
  owner: { kind: ImageKind; userId?: string; communityId?: string; now: Date },
): Promise<StoredImage> {
  const id = Bun.randomUUIDv7();
  const e = written.encoded;
  await tx
    .insertInto("images")
    .values({ id, blob_id: written.blobId, sha256: written.sha256, kind: owner.kind, content_type: e.contentType, width: e.width, height: e.height, size: e.bytes.length, animated: e.animated, user_id: owner.userId ?? null, community_id: owner.communityId ?? null, created_at: owner.now })
    .execute();
  return { id, blobId: written.blobId, sha256: written.sha256, width: e.width, height: e.height, animated: e.animated };
}

/** Deletes image rows (caller's transaction); returns their blob ids for deleteBlobsLater. */
export async function deleteImageRows(tx: Tx, ids: readonly (string | null | undefined)[]): Promise<string[]> {
  const wanted = ids.filter((id): id is string => typeof id === "string");
  if (wanted.length === 0) return [];
  const rows = await tx.deleteFrom("images").where("id", "in", wanted).returning("blob_id").execute();
  return rows.map((r) => r.blob_id);
}

/** After COMMIT (or after a failed transaction, for a blob that never got its row). Best effort: the orphan walk retries. */
export async function deleteBlobs(deps: AppDeps, blobIds: readonly string[]): Promise<void> {
  for (const id of blobIds) await deps.blobs?.deleteBlob(parseBlobId(id)).catch(() => {});
}

/** Runs `fn` with a freshly written blob; if `fn` throws, the blob is deleted before the error goes on. */
export async function withWrittenImage<T>(deps: AppDeps, written: { blobId: string }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    await deleteBlobs(deps, [written.blobId]);
    throw error;
  }
}

/** For the files job's orphan walk: which of these blobs belong to a stored image. */
export async function blobIdsWithImages(db: Executor, blobIds: readonly string[]): Promise<Set<string>> {
  if (blobIds.length === 0) return new Set();
  const rows = await db.selectFrom("images").select("blob_id").where("blob_id", "in", blobIds).execute();
  return new Set(rows.map((r) => r.blob_id));
}

export type ImageRow = { id: string; blob_id: string; sha256: string; kind: string; content_type: string; size: number; user_id: string | null; community_id: string | null };

export async function findImage(db: Executor, id: string): Promise<ImageRow | undefined> {
  return db.selectFrom("images").select(["id", "blob_id", "sha256", "kind", "content_type", "size", "user_id", "community_id"]).where("id", "=", id).executeTakeFirst();
}
