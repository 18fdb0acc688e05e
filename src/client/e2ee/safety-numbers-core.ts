// The safety-number algorithm (safety-numbers.ts explains it) with the SHA-512 function passed
// in and no imports: the Verify panel (src/client/chat/trust-ui.ts, a lazy chunk) computes the
// numbers with chat.js's own SHA-512 without sharing a module with chat.js (a shared module
// would become a chunk that chat.js imports statically). safety-numbers.ts binds it to
// primitives.ts's computeSha512 and is the library's public face.

export const SAFETY_NUMBER_ITERATIONS = 5200;
export const SAFETY_QR_VERSION = 1;
const FINGERPRINT_VERSION = Uint8Array.of(0, 0);
const QR_HASH_LENGTH = 32;

export interface FingerprintParty {
  /** Stable user id (the server's user id). */
  userId: string;
  /** 64 bytes: Ed25519 signing key ‖ X25519 identity key (see encodeIdentityKeyBytes). */
  identityKey: Uint8Array;
}

export type SafetyQrResult = "verified" | "mismatch" | "unsupported-version";

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
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

/** "12345 67890 ..." — twelve groups of five, as users compare them aloud. */
export function formatSafetyNumber(digits: string): string {
  return digits.match(/.{5}/g)?.join(" ") ?? digits;
}

export function createSafetyNumbers(sha512: (data: Uint8Array) => Uint8Array) {
  function fingerprintHash(party: FingerprintParty): Uint8Array {
    // As Signal's getFingerprint: start from version ‖ key ‖ id, then hash = SHA-512(hash ‖ key), 5200 times.
    let hash = join(FINGERPRINT_VERSION, party.identityKey, new TextEncoder().encode(party.userId));
    for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = sha512(join(hash, party.identityKey));
    return hash;
  }
  return {
    /** 60 digits; the same on both devices whichever side computes it. */
    computeSafetyNumber(local: FingerprintParty, remote: FingerprintParty): string {
      const a = encodeDigits(fingerprintHash(local));
      const b = encodeDigits(fingerprintHash(remote));
      return a < b ? a + b : b + a;
    },
    /** QR payload: version ‖ hash(local)[0..32] ‖ hash(remote)[0..32], from the displaying side. */
    createSafetyQrPayload(local: FingerprintParty, remote: FingerprintParty): Uint8Array {
      return join(Uint8Array.of(SAFETY_QR_VERSION), fingerprintHash(local).subarray(0, QR_HASH_LENGTH), fingerprintHash(remote).subarray(0, QR_HASH_LENGTH));
    },
    /**
     * Checks a payload scanned from the other device's screen: its "local" half must be our view
     * of them and its "remote" half our own key. Constant-time comparison of both halves.
     */
    verifySafetyQrPayload(local: FingerprintParty, remote: FingerprintParty, scanned: Uint8Array): SafetyQrResult {
      if (scanned.length < 1 || scanned[0] !== SAFETY_QR_VERSION) return "unsupported-version";
      if (scanned.length !== 1 + 2 * QR_HASH_LENGTH) return "mismatch";
      const theirs = scanned.subarray(1, 1 + QR_HASH_LENGTH);
      const ours = scanned.subarray(1 + QR_HASH_LENGTH);
      const ok = sameBytes(theirs, fingerprintHash(remote).subarray(0, QR_HASH_LENGTH)) && sameBytes(ours, fingerprintHash(local).subarray(0, QR_HASH_LENGTH));
      return ok ? "verified" : "mismatch";
    },
  };
}
