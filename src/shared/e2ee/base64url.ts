// Strict base64url (RFC 4648 §5) without padding. Strict means one canonical spelling per byte
// string: no padding, no whitespace, no other alphabet, and the unused low bits of the last
// character must be zero. Lenient decoders let two different strings mean the same bytes, which
// breaks signature and replay checks that compare encoded forms.

import { WireFormatError } from "./errors.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DECODE_TABLE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

export function encodeBase64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}

/** Decodes strict unpadded base64url or throws `INVALID_BASE64URL`. */
export function decodeBase64url(text: string, field?: string): Uint8Array {
  if (text.length % 4 === 1) throw new WireFormatError("INVALID_BASE64URL", "impossible length", field);
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const d = c < 128 ? DECODE_TABLE[c]! : -1;
    if (d < 0) throw new WireFormatError("INVALID_BASE64URL", "character outside base64url alphabet", field);
    value = (value << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >>> bits) & 0xff;
    }
    value &= (1 << bits) - 1;
  }
  if (value !== 0) throw new WireFormatError("INVALID_BASE64URL", "non-canonical trailing bits", field);
  return out;
}
