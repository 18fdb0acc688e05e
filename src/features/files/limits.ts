/**
 * Sizes and times of file uploads (docs/files.md). The ciphertext format is the attachment
 * stream of src/client/e2ee/attachments.ts: chunks of `chunk_size` plaintext bytes, each sealed
 * with a 16-byte AEAD tag, the last one shorter. A part is a whole number of ciphertext chunks,
 * so a chunk-aligned Range touches at most two parts (docs/decisions/0005-blob-store.md).
 */
import { AEAD_TAG_LENGTH, ATTACHMENT_CHUNK_SIZE, MAX_ATTACHMENT_CHUNK_SIZE, MIN_ATTACHMENT_CHUNK_SIZE } from "../../shared/e2ee/constants.ts";
import { MAX_PARTS } from "../../blobs/index.ts";
import type { Limit } from "../../http/rate-limit.ts";

export { AEAD_TAG_LENGTH, ATTACHMENT_CHUNK_SIZE, MAX_ATTACHMENT_CHUNK_SIZE, MIN_ATTACHMENT_CHUNK_SIZE, MAX_PARTS };

/** The largest part a PUT may carry: 16 MiB of plaintext chunks plus their tags (and the route's body budget). */
export const MAX_PART_SIZE = 16 * 1024 * 1024 + 256 * AEAD_TAG_LENGTH;
/** An upload session that is not attached to a message within this time is removed, its quota released. */
export const UPLOAD_SESSION_TTL_MS = 24 * 3600 * 1000;
export { MAX_FILES_PER_MESSAGE } from "../../shared/file-limits.ts";
/** Per user, shared through Redis: session starts and part PUTs each take one token. */
export const UPLOAD_RATE: Limit = { ratePerSec: 10, burst: 100 };
/** A stored blob with no database row is an orphan once it is this old (a write racing a session's removal may land late). */
export const ORPHAN_GRACE_MS = 3600 * 1000;
/** How often main.ts runs the files job. */
export const FILE_JOB_INTERVAL_MS = 5 * 60 * 1000;

/** Ciphertext size of `plaintextSize` bytes in chunks of `chunkSize` (attachments.ts computeEncryptedAttachmentSize). */
export function ciphertextSizeOf(plaintextSize: number, chunkSize: number = ATTACHMENT_CHUNK_SIZE): number {
  const chunks = Math.max(1, Math.ceil(plaintextSize / chunkSize));
  return plaintextSize + chunks * AEAD_TAG_LENGTH;
}

/** The size of part `part` of a file of `size` bytes cut into `partSize` parts. */
export function expectedPartSize(size: number, partSize: number, part: number): number {
  const count = Math.ceil(size / partSize);
  return part < count - 1 ? partSize : size - (count - 1) * partSize;
}
