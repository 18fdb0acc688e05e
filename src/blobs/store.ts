/**
 * The blob store interface (docs/decisions/0005-blob-store.md). A blob is an opaque byte string
 * (file ciphertext) stored as numbered parts 0…n-1 that are written one by one and read back as
 * one stream. Each part is written atomically: until `writePart` resolves nothing of it is
 * visible, and a failed or aborted write leaves nothing behind. A resumable upload appends one
 * part per acknowledged request; a small blob is one part. There is no "compose" step: reads
 * stitch the parts, so a finished upload costs no second copy (measured in the decision record).
 */
import type { BlobId } from "./ids.ts";

/** A whole body in memory (small blobs, tests) or a stream consumed without buffering it. */
export type BlobBody = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export type BlobPart = Readonly<{ index: number; size: number }>;

export type BlobStat = Readonly<{
  id: BlobId;
  /** Sum of the parts' sizes. */
  size: number;
  /** In part order. Contiguous from 0 for a healthy blob; a gap makes reads fail with BLOB_DAMAGED. */
  parts: readonly BlobPart[];
  /** Time of the newest part: the garbage collector's age test. */
  modifiedAt: Date;
}>;

export type WritePartOptions = {
  /** Refuse (413, nothing stored) as soon as the body exceeds this many bytes. */
  maxBytes?: number;
  /** Abort the write (nothing stored), e.g. when the upload session is revoked. */
  signal?: AbortSignal;
};

export type ReadBlobOptions = {
  /** First byte, default 0. */
  start?: number;
  /** One past the last byte (like Blob.slice), default the size. */
  end?: number;
  /** A stat the caller already has (e.g. part sizes from its database): saves a listing. */
  stat?: BlobStat;
};

export type BlobPage = Readonly<{ blobs: readonly BlobStat[]; next: BlobId | undefined }>;

export const MAX_LIST_LIMIT = 1000;

export interface BlobStore {
  readonly kind: "local" | "s3";
  /** Where the blobs are, for logs and the operator: a directory or endpoint/bucket/prefix, never a secret. */
  readonly location: string;
  /** Stores (or replaces) part `part` of blob `id`, streaming; resolves once it is durable. */
  writePart(id: BlobId, part: number, body: BlobBody, options?: WritePartOptions): Promise<BlobPart>;
  /** undefined when the blob has no part. */
  statBlob(id: BlobId): Promise<BlobStat | undefined>;
  /**
   * A stream of bytes [start, end) across the parts. Rejects before returning when the blob is
   * missing (BlobNotFoundError), the range is outside it (BlobRangeError) or a part is missing
   * (BlobDamagedError); errors later in the stream error the stream.
   */
  readBlob(id: BlobId, options?: ReadBlobOptions): Promise<ReadableStream<Uint8Array>>;
  /** Removes every part; removing a missing blob is not an error. */
  deleteBlob(id: BlobId): Promise<void>;
  /** Blobs in id order after `after`, at most `limit` (≤ MAX_LIST_LIMIT) per page: for the garbage collector. */
  listBlobs(options: { after?: BlobId; limit: number }): Promise<BlobPage>;
  /** Throws BlobStoreUnavailableError when the storage cannot be used (cheap: no write). */
  checkHealth(): Promise<void>;
  /** Removes leftovers of writes interrupted by a crash that are older than `olderThanMs`; returns how many. */
  sweepTemporaries(olderThanMs: number): Promise<number>;
}
