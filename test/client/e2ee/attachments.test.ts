import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  ATTACHMENT_CHUNK_SIZE,
  computeEncryptedAttachmentSize,
  decryptAttachmentStream,
  E2eeError,
  encodeAttachmentHeader,
  encryptAttachmentStream,
  generateAttachmentKey,
  parseAttachmentHeader,
  type AttachmentHeader,
} from "../../../src/client/e2ee/index.ts";
import { createSeededRandom } from "./test-helpers.ts";

const MB = 1024 * 1024;

/** Deterministic pseudo-random bytes produced lazily, 1 MiB at a time (never the whole file). */
function createLazyInput(totalBytes: number, seed: number, pieceSize = MB): ReadableStream<Uint8Array> {
  const random = createSeededRandom(seed);
  let produced = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= totalBytes) {
        controller.close();
        return;
      }
      const size = Math.min(pieceSize, totalBytes - produced);
      const piece = new Uint8Array(size);
      const words = new Uint32Array(piece.buffer, 0, Math.floor(size / 4));
      for (let i = 0; i < words.length; i++) words[i] = (random() * 0x1_0000_0000) >>> 0;
      controller.enqueue(piece);
      produced += size;
    },
  });
}

/** Reads a stream piece by piece (the DOM typings lack ReadableStream's async iterator). */
async function forEachPiece(stream: ReadableStream<Uint8Array>, onPiece: (piece: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onPiece(value);
  }
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await forEachPiece(stream, (part) => parts.push(part));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function streamOf(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(p);
      controller.close();
    },
  });
}

/** Encrypts `plaintext` and returns the header and ciphertext split into its chunks. */
async function encryptToChunks(key: Uint8Array, plaintext: Uint8Array, chunkSize: number): Promise<{ header: AttachmentHeader; chunks: Uint8Array[] }> {
  const { header, stream } = await encryptAttachmentStream(key, streamOf(plaintext), chunkSize);
  const ciphertext = await collect(stream);
  expect(ciphertext.length).toBe(computeEncryptedAttachmentSize(plaintext.length, chunkSize));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < ciphertext.length; i += chunkSize + 16) chunks.push(ciphertext.subarray(i, i + chunkSize + 16));
  return { header, chunks };
}

async function decryptChunks(key: Uint8Array, header: AttachmentHeader, chunks: Uint8Array[]): Promise<Uint8Array> {
  // Deliver in odd-sized pieces so the re-chunking is exercised.
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 1000) pieces.push(all.subarray(i, i + 1000));
  return collect(await decryptAttachmentStream(key, header, streamOf(...pieces)));
}

async function expectDecryptFailure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(E2eeError);
    return (error as E2eeError).code;
  }
  throw new Error("expected decryption to fail");
}

describe("attachments", () => {
  test("100 MB round trip, streamed, hashed incrementally", async () => {
    const size = 100 * MB;
    const key = generateAttachmentKey();
    const inputHash = createHash("sha256");
    const input = createLazyInput(size, 42).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          inputHash.update(chunk);
          controller.enqueue(chunk);
        },
      }),
    );
    const started = performance.now();
    const { header, stream } = await encryptAttachmentStream(key, input);
    expect(header.chunkSize).toBe(ATTACHMENT_CHUNK_SIZE);
    const headerOnWire = parseAttachmentHeader(JSON.stringify(encodeAttachmentHeader(header)));
    let ciphertextBytes = 0;
    const counted = stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          ciphertextBytes += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    );
    const outputHash = createHash("sha256");
    let outputBytes = 0;
    await forEachPiece(await decryptAttachmentStream(key, headerOnWire, counted), (piece) => {
      outputHash.update(piece);
      outputBytes += piece.length;
    });
    const seconds = (performance.now() - started) / 1000;
    expect(outputBytes).toBe(size);
    expect(ciphertextBytes).toBe(computeEncryptedAttachmentSize(size));
    expect(outputHash.digest("hex")).toBe(inputHash.digest("hex"));
    console.log(`attachment: 100 MB encrypt+decrypt streamed in ${seconds.toFixed(2)} s = ${(100 / seconds).toFixed(0)} MB/s (both directions)`);
  });

  const CHUNK = 4096; // the smallest allowed chunk size keeps the tamper tests small
  const plaintext = Uint8Array.from({ length: CHUNK * 4 + 123 }, (_, i) => (i * 31) & 0xff);

  test("round trip at sizes around chunk boundaries, including empty", async () => {
    for (const length of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7]) {
      const key = generateAttachmentKey();
      const data = plaintext.subarray(0, length);
      const { header, chunks } = await encryptToChunks(key, data, CHUNK);
      expect(chunks.length).toBe(Math.max(1, Math.ceil(length / CHUNK)));
      expect(await decryptChunks(key, header, chunks)).toEqual(data);
    }
  });

  test("swapped, dropped, duplicated, truncated or flipped chunks fail; so does a wrong key", async () => {
    const key = generateAttachmentKey();
    const { header, chunks } = await encryptToChunks(key, plaintext, CHUNK);
    expect(chunks.length).toBe(5);
    expect(await decryptChunks(key, header, chunks)).toEqual(plaintext);
    const [c0, c1, c2, c3, c4] = chunks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    expect(await expectDecryptFailure(decryptChunks(key, header, [c1, c0, c2, c3, c4]))).toBe("DECRYPT_FAILED"); // swap
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c2, c3, c4]))).toBe("DECRYPT_FAILED"); // drop middle
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c1, c1, c2, c3, c4]))).toBe("DECRYPT_FAILED"); // duplicate
    // Truncation at a chunk boundary: the last remaining chunk was not sealed as final.
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c1, c2, c3]))).toBe("DECRYPT_FAILED");
    // Truncation inside a chunk, and a stream shorter than one tag.
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c1, c2, c3, c4.subarray(0, 50)]))).toBe("DECRYPT_FAILED");
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c1, c2, c3, c4.subarray(0, 5)]))).toBe("TRUNCATED_STREAM");
    expect(await expectDecryptFailure(decryptChunks(key, header, []))).toBe("TRUNCATED_STREAM");
    // Dropping the final chunk and appending the final chunk of another file under the same key.
    const other = await encryptToChunks(key, plaintext, CHUNK);
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c1, c2, c3, other.chunks[4]!]))).toBe("DECRYPT_FAILED");
    const flipped = c2.slice();
    flipped[100]! ^= 1;
    expect(await expectDecryptFailure(decryptChunks(key, header, [c0, c1, flipped, c3, c4]))).toBe("DECRYPT_FAILED");
    expect(await expectDecryptFailure(decryptChunks(generateAttachmentKey(), header, chunks))).toBe("DECRYPT_FAILED");
    // The header is bound too: another chunk size or nonce prefix fails.
    const otherPrefix = { ...header, noncePrefix: header.noncePrefix.slice() };
    otherPrefix.noncePrefix[0]! ^= 1;
    expect(await expectDecryptFailure(decryptChunks(key, otherPrefix, chunks))).toBe("DECRYPT_FAILED");
  });
});
