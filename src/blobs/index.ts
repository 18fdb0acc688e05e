/** The blob store: encrypted file bytes on local disk or in S3-compatible storage (docs/decisions/0005-blob-store.md). */
export type { BlobBody, BlobPage, BlobPart, BlobStat, BlobStore, ReadBlobOptions, WritePartOptions } from "./store.ts";
export { MAX_LIST_LIMIT } from "./store.ts";
export { BLOB_ID_PATTERN, MAX_PARTS, isBlobId, newBlobId, parseBlobId, type BlobId } from "./ids.ts";
export { BlobDamagedError, BlobNotFoundError, BlobRangeError, BlobStoreUnavailableError, BlobTooLargeError, InvalidPartError } from "./errors.ts";
export { openBlobStore } from "./open.ts";
export { LocalBlobStore } from "./local.ts";
export { S3BlobStore } from "./s3.ts";
