// Streaming attachment encryption: a random 256-bit key per file, 64 KiB plaintext chunks, each
// sealed with AES-256-GCM (WebCrypto: native in browsers and Bun). Nonces follow the STREAM
// construction (Hoang et al. 2015): nonce = 7-byte random prefix ‖ u32 chunk index ‖ final flag,
// so a chunk only authenticates at its own position, and only the last chunk authenticates as
// final. Reordered, dropped, duplicated or truncated streams therefore fail, and a stream that
// ends without a final chunk fails. Only one chunk is held in memory at a time.

import { encodeAttachmentHeaderBytes, type AttachmentHeader } from "../../shared/e2ee/attachment-header.ts";
import {
  AEAD_TAG_LENGTH,
  ATTACHMENT_CHUNK_SIZE,
  ATTACHMENT_KEY_LENGTH,
  ATTACHMENT_NONCE_PREFIX_LENGTH,
} from "../../shared/e2ee/constants.ts";
import { randomBytes } from "./bytes.ts";
import { E2eeError } from "./errors.ts";

const MAX_CHUNKS = 0xffff_ffff;

export function generateAttachmentKey(): Uint8Array {
  return randomBytes(ATTACHMENT_KEY_LENGTH);
}

/** The raw key is needed once, to import it as a non-extractable CryptoKey for this file. */
export async function importAttachmentKey(key: Uint8Array): Promise<CryptoKey> {
  if (key.length !== ATTACHMENT_KEY_LENGTH) throw new E2eeError("INVALID_STATE", "attachment key must be 32 bytes");
  return crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export function buildChunkNonce(noncePrefix: Uint8Array, index: number, isFinal: boolean): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(12);
  nonce.set(noncePrefix, 0);
  new DataView(nonce.buffer).setUint32(ATTACHMENT_NONCE_PREFIX_LENGTH, index);
  nonce[11] = isFinal ? 1 : 0;
  return nonce;
}

/** AES-256-GCM through WebCrypto; the known-answer tests call this exact function. */
export async function encryptChunkWithAesGcm(key: CryptoKey, nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const params = { name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: associatedData as Uint8Array<ArrayBuffer>, tagLength: 128 };
  return new Uint8Array(await crypto.subtle.encrypt(params, key, plaintext as Uint8Array<ArrayBuffer>));
}

export async function decryptChunkWithAesGcm(key: CryptoKey, nonce: Uint8Array, associatedData: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  const params = { name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: associatedData as Uint8Array<ArrayBuffer>, tagLength: 128 };
  try {
    return new Uint8Array(await crypto.subtle.decrypt(params, key, ciphertext as Uint8Array<ArrayBuffer>));
  } catch {
    throw new E2eeError("DECRYPT_FAILED", "attachment chunk failed authentication");
  }
}

/**
 * Re-chunks a byte stream into fixed-size blocks, holding back the last full block until we
 * know whether more data follows (that decides its final flag). `onBlock` gets each block once.
 */
function createChunker(
  blockSize: number,
  onBlock: (block: Uint8Array, isFinal: boolean, controller: TransformStreamDefaultController<Uint8Array>) => Promise<void>,
): TransformStream<Uint8Array, Uint8Array> {
  // One buffer reused for every block: WebCrypto copies its input when called, and we await it.
  const buffer = new Uint8Array(blockSize);
  let filled = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(input, controller) {
      let offset = 0;
      while (offset < input.length) {
        if (filled === blockSize) {
          // More data follows, so the held block is not the last one.
          await onBlock(buffer, false, controller);
          filled = 0;
        }
        const take = Math.min(blockSize - filled, input.length - offset);
        buffer.set(input.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
      }
    },
    async flush(controller) {
      await onBlock(buffer.subarray(0, filled), true, controller);
    },
  });
}

export interface EncryptedAttachment {
  header: AttachmentHeader;
  /** Ciphertext: chunks of chunkSize + 16 bytes, the last one shorter (at least 16 bytes). */
  stream: ReadableStream<Uint8Array>;
}

export async function encryptAttachmentStream(
  key: Uint8Array,
  plaintext: ReadableStream<Uint8Array>,
  chunkSize: number = ATTACHMENT_CHUNK_SIZE,
): Promise<EncryptedAttachment> {
  const cryptoKey = await importAttachmentKey(key);
  const header: AttachmentHeader = { chunkSize, noncePrefix: randomBytes(ATTACHMENT_NONCE_PREFIX_LENGTH) };
  const associatedData = encodeAttachmentHeaderBytes(header);
  let index = 0;
  const chunker = createChunker(chunkSize, async (block, isFinal, controller) => {
    if (index > MAX_CHUNKS) throw new E2eeError("OVERSIZED", "attachment too large");
    const nonce = buildChunkNonce(header.noncePrefix, index++, isFinal);
    controller.enqueue(await encryptChunkWithAesGcm(cryptoKey, nonce, associatedData, block));
  });
  return { header, stream: plaintext.pipeThrough(chunker) };
}

export async function decryptAttachmentStream(
  key: Uint8Array,
  header: AttachmentHeader,
  ciphertext: ReadableStream<Uint8Array>,
): Promise<ReadableStream<Uint8Array>> {
  const cryptoKey = await importAttachmentKey(key);
  const associatedData = encodeAttachmentHeaderBytes(header);
  let index = 0;
  const chunker = createChunker(header.chunkSize + AEAD_TAG_LENGTH, async (block, isFinal, controller) => {
    if (block.length < AEAD_TAG_LENGTH) throw new E2eeError("TRUNCATED_STREAM", "attachment stream ended early");
    if (index > MAX_CHUNKS) throw new E2eeError("OVERSIZED", "attachment too large");
    const nonce = buildChunkNonce(header.noncePrefix, index++, isFinal);
    controller.enqueue(await decryptChunkWithAesGcm(cryptoKey, nonce, associatedData, block));
  });
  return ciphertext.pipeThrough(chunker);
}

/** Ciphertext size for a plaintext size, e.g. to declare an upload's length up front. */
export function computeEncryptedAttachmentSize(plaintextSize: number, chunkSize: number = ATTACHMENT_CHUNK_SIZE): number {
  const chunks = Math.max(1, Math.ceil(plaintextSize / chunkSize));
  return plaintextSize + chunks * AEAD_TAG_LENGTH;
}
