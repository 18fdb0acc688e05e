/**
 * "hearth-sealed v1": a file encrypted to a passphrase (docs/crypto.md "Admin exports"), used
 * for the admin export of a user's data. Standard parts only, from node:crypto:
 *
 *   magic   "HEARTHSEAL1\n" (12 bytes)
 *   hlen    header length, uint32 big-endian
 *   header  JSON {"v":1,"kdf":"scrypt","N":131072,"r":8,"p":1,"salt":b64,"cipher":"AES-256-GCM",
 *                 "nonce_prefix":b64 (7 bytes),"segment":65536}
 *   body    segments: AES-256-GCM of 65,536 plaintext bytes each (the last one 0..65,536), every
 *           one followed by its 16-byte tag. key = scrypt(passphrase NFC, salt, N, r, p, 32);
 *           nonce = prefix(7) ‖ segment index (uint32 BE) ‖ last (1 byte: 1 on the last
 *           segment, else 0); additional data = magic ‖ hlen ‖ header.
 *
 * The "last" byte makes a truncated file fail (the STREAM construction of Hoang, Reyhanitabar,
 * Rogaway and Vizár, as age and Tink use it); the header as additional data makes an edited
 * header fail. A wrong passphrase fails at the first segment.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from "node:crypto";

export const SEAL_MAGIC = "HEARTHSEAL1\n";
export const SEGMENT = 65_536;
const TAG = 16;
const KDF = { N: 131_072, r: 8, p: 1 } as const;
/** Decoders refuse headers asking for more (a hostile file must not make us allocate gigabytes). */
const MAX_N = 1_048_576;

export const MIN_PASSPHRASE = 12;

function deriveKey(passphrase: string, salt: Uint8Array, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize("NFC"), salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1_048_576 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

function nonceOf(prefix: Uint8Array, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(index, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function sealSegment(key: Buffer, prefix: Uint8Array, aad: Buffer, index: number, last: boolean, plain: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-256-gcm", key, nonceOf(prefix, index, last));
  cipher.setAAD(aad);
  const out = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Encrypts a stream to a passphrase; segments go out as the input arrives (bounded memory). */
export function sealStream(input: ReadableStream<Uint8Array>, passphrase: string): ReadableStream<Uint8Array> {
  const salt = randomBytes(16);
  const prefix = randomBytes(7);
  const header = Buffer.from(JSON.stringify({ v: 1, kdf: "scrypt", ...KDF, salt: salt.toString("base64"), cipher: "AES-256-GCM", nonce_prefix: prefix.toString("base64"), segment: SEGMENT }));
  const hlen = Buffer.alloc(4);
  hlen.writeUInt32BE(header.length);
  const aad = Buffer.concat([Buffer.from(SEAL_MAGIC), hlen, header]);
  const keyPromise = deriveKey(passphrase, salt, KDF);
  let buffered: Uint8Array[] = [];
  let size = 0;
  let index = 0;
  const take = (n: number): Uint8Array => {
    const all = Buffer.concat(buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    buffered = rest.length > 0 ? [rest] : [];
    size = rest.length;
    return head;
  };
  return input.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async start(controller) {
        await keyPromise;
        controller.enqueue(new Uint8Array(aad));
      },
      async transform(chunk, controller) {
        const key = await keyPromise;
        buffered.push(chunk);
        size += chunk.length;
        // Strictly more than a segment: the final segment is never empty unless the input was.
        while (size > SEGMENT) controller.enqueue(sealSegment(key, prefix, aad, index++, false, take(SEGMENT)));
      },
      async flush(controller) {
        const key = await keyPromise;
        controller.enqueue(sealSegment(key, prefix, aad, index++, true, take(size)));
      },
    }),
  );
}

export class SealError extends Error {}

/** Decrypts a whole sealed file (tests, hearthctl). Throws SealError for a wrong passphrase, a damaged or truncated file. */
export async function openSealed(file: Uint8Array, passphrase: string): Promise<Uint8Array> {
  const magic = Buffer.from(SEAL_MAGIC);
  const data = Buffer.from(file.buffer, file.byteOffset, file.length);
  if (data.length < magic.length + 4 || !data.subarray(0, magic.length).equals(magic)) throw new SealError("Not a hearth-sealed v1 file.");
  const hlen = data.readUInt32BE(magic.length);
  if (hlen > 4096 || data.length < magic.length + 4 + hlen) throw new SealError("Damaged header.");
  const headerBytes = data.subarray(magic.length + 4, magic.length + 4 + hlen);
  let h: { v: number; kdf: string; N: number; r: number; p: number; salt: string; cipher: string; nonce_prefix: string; segment: number };
  try {
    h = JSON.parse(headerBytes.toString("utf8"));
  } catch {
    throw new SealError("Damaged header.");
  }
  if (h.v !== 1 || h.kdf !== "scrypt" || h.cipher !== "AES-256-GCM" || !Number.isInteger(h.N) || h.N > MAX_N || h.r > 32 || h.p > 16 || h.segment !== SEGMENT) throw new SealError("Unsupported header.");
  const aad = data.subarray(0, magic.length + 4 + hlen);
  const prefix = Buffer.from(h.nonce_prefix, "base64");
  const key = await deriveKey(passphrase, Buffer.from(h.salt, "base64"), h);
  const out: Buffer[] = [];
  let offset = aad.length;
  let index = 0;
  for (;;) {
    const remaining = data.length - offset;
    const last = remaining <= SEGMENT + TAG;
    if (remaining < TAG) throw new SealError("Truncated file.");
    const segment = data.subarray(offset, offset + (last ? remaining : SEGMENT + TAG));
    const decipher = createDecipheriv("aes-256-gcm", key, nonceOf(prefix, index, last));
    decipher.setAAD(aad);
    decipher.setAuthTag(segment.subarray(segment.length - TAG));
    try {
      out.push(decipher.update(segment.subarray(0, segment.length - TAG)), decipher.final());
    } catch {
      throw new SealError(index === 0 ? "Wrong passphrase, or the file is damaged." : `Damaged or truncated at segment ${index}.`);
    }
    offset += segment.length;
    index += 1;
    if (last) break;
  }
  const all = Buffer.concat(out);
  return new Uint8Array(all.buffer, all.byteOffset, all.length);
}
