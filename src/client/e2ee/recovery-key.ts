// The user-held recovery key: 256 random bits shown once. Displayed as Crockford base32 (no
// I/L/O/U, case-insensitive) in 14 groups of 4 characters, over key ‖ 24-bit checksum, so a
// mistyped character is detected before we even try to decrypt (a wrong but well-formed key is
// caught by the backup's AEAD instead).

import { concatBytes, encodeUtf8, equalBytes, randomBytes } from "./bytes.ts";
import { E2eeError } from "./errors.ts";
import { computeSha256 } from "./primitives.ts";

export const RECOVERY_KEY_LENGTH = 32;
const CHECKSUM_LENGTH = 3;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECKSUM_CONTEXT = encodeUtf8("Hearth recovery key v1");

function computeChecksum(key: Uint8Array): Uint8Array {
  return computeSha256(concatBytes(CHECKSUM_CONTEXT, key)).subarray(0, CHECKSUM_LENGTH);
}

export function generateRecoveryKey(): Uint8Array {
  return randomBytes(RECOVERY_KEY_LENGTH);
}

/** 35 bytes = 280 bits = exactly 56 base32 characters. */
export function formatRecoveryKey(key: Uint8Array): string {
  if (key.length !== RECOVERY_KEY_LENGTH) throw new E2eeError("INVALID_RECOVERY_KEY", "recovery key must be 32 bytes");
  const bytes = concatBytes(key, computeChecksum(key));
  let out = "";
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join("-");
}

/** Accepts any case, spaces or dashes, and the usual look-alikes (O→0, I/L→1). */
export function parseRecoveryKey(text: string): Uint8Array {
  const cleaned = text.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  if (cleaned.length !== 56) throw new E2eeError("INVALID_RECOVERY_KEY", "a recovery key has 56 characters");
  const bytes = new Uint8Array(RECOVERY_KEY_LENGTH + CHECKSUM_LENGTH);
  let value = 0;
  let bits = 0;
  let o = 0;
  for (const ch of cleaned) {
    const d = ALPHABET.indexOf(ch);
    if (d < 0) throw new E2eeError("INVALID_RECOVERY_KEY", `"${ch}" is not a recovery key character`);
    value = (value << 5) | d;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[o++] = (value >>> bits) & 0xff;
    }
    value &= (1 << bits) - 1;
  }
  const key = bytes.slice(0, RECOVERY_KEY_LENGTH);
  if (!equalBytes(bytes.subarray(RECOVERY_KEY_LENGTH), computeChecksum(key))) {
    throw new E2eeError("INVALID_RECOVERY_KEY", "checksum mismatch: check for a typo");
  }
  return key;
}
