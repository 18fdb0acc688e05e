// Safety numbers in the style of Signal's NumericFingerprintGenerator: for each side, starting
// from (version ‖ identity key ‖ stable user id), hash = SHA-512(hash ‖ identity key) 5200 times;
// the first 30 bytes become six 5-digit groups (30 digits). Both halves are concatenated in a
// canonical (sorted) order, so both devices display the same 60 digits. Our "identity key" is the
// device's Ed25519 key ‖ X25519 key, so a change of either key changes the number.

import { concatBytes, encodeUtf8, equalBytes } from "./bytes.ts";
import { computeSha512 } from "./primitives.ts";

export const SAFETY_NUMBER_ITERATIONS = 5200;
const FINGERPRINT_VERSION = Uint8Array.of(0, 0);
export const SAFETY_QR_VERSION = 1;
const QR_HASH_LENGTH = 32;

export interface FingerprintParty {
  /** Stable user id (the server's user id). */
  userId: string;
  /** 64 bytes: Ed25519 signing key ‖ X25519 identity key (see encodeIdentityKeyBytes). */
  identityKey: Uint8Array;
}

function computeFingerprintHash(party: FingerprintParty): Uint8Array {
  // As Signal's getFingerprint: start from version ‖ key ‖ id, then hash = SHA-512(hash ‖ key), 5200 times.
  let hash = concatBytes(FINGERPRINT_VERSION, party.identityKey, encodeUtf8(party.userId));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = computeSha512(concatBytes(hash, party.identityKey));
  return hash;
}

function encodeDigits(hash: Uint8Array): string {
  let out = "";
  for (let i = 0; i < 30; i += 5) {
    // 40-bit big-endian chunk mod 100000, as Signal's getEncodedChunk.
    const chunk = hash[i]! * 2 ** 32 + ((hash[i + 1]! << 24) >>> 0) + (hash[i + 2]! << 16) + (hash[i + 3]! << 8) + hash[i + 4]!;
    out += String(chunk % 100000).padStart(5, "0");
  }
  return out;
}

/** 60 digits; the same on both devices whichever side computes it. */
export function computeSafetyNumber(local: FingerprintParty, remote: FingerprintParty): string {
  const a = encodeDigits(computeFingerprintHash(local));
  const b = encodeDigits(computeFingerprintHash(remote));
  return a < b ? a + b : b + a;
}

/** "12345 67890 ..." — twelve groups of five, as users compare them aloud. */
export function formatSafetyNumber(digits: string): string {
  return digits.match(/.{5}/g)?.join(" ") ?? digits;
}

/** QR payload: version ‖ hash(local)[0..32] ‖ hash(remote)[0..32], from the displaying side. */
export function createSafetyQrPayload(local: FingerprintParty, remote: FingerprintParty): Uint8Array {
  return concatBytes(
    Uint8Array.of(SAFETY_QR_VERSION),
    computeFingerprintHash(local).subarray(0, QR_HASH_LENGTH),
    computeFingerprintHash(remote).subarray(0, QR_HASH_LENGTH),
  );
}

export type SafetyQrResult = "verified" | "mismatch" | "unsupported-version";

/**
 * Checks a payload scanned from the other device's screen: its "local" half must be our view of
 * them and its "remote" half our own key. Constant-time comparison of both halves.
 */
export function verifySafetyQrPayload(local: FingerprintParty, remote: FingerprintParty, scanned: Uint8Array): SafetyQrResult {
  if (scanned.length < 1 || scanned[0] !== SAFETY_QR_VERSION) return "unsupported-version";
  if (scanned.length !== 1 + 2 * QR_HASH_LENGTH) return "mismatch";
  const theirs = scanned.subarray(1, 1 + QR_HASH_LENGTH);
  const ours = scanned.subarray(1 + QR_HASH_LENGTH);
  const expectedTheirs = computeFingerprintHash(remote).subarray(0, QR_HASH_LENGTH);
  const expectedOurs = computeFingerprintHash(local).subarray(0, QR_HASH_LENGTH);
  const ok = equalBytes(theirs, expectedTheirs) && equalBytes(ours, expectedOurs);
  return ok ? "verified" : "mismatch";
}
