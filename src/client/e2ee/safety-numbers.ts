// Safety numbers in the style of Signal's NumericFingerprintGenerator: for each side, starting
// from (version ‖ identity key ‖ stable user id), hash = SHA-512(hash ‖ identity key) 5200 times;
// the first 30 bytes become six 5-digit groups (30 digits). Both halves are concatenated in a
// canonical (sorted) order, so both devices display the same 60 digits. Our "identity key" is the
// device's Ed25519 key ‖ X25519 key, so a change of either key changes the number.
// The algorithm is in safety-numbers-core.ts (import-free, for the lazy Verify panel); this
// module binds it to our SHA-512.

import { computeSha512 } from "./primitives.ts";
import { createSafetyNumbers } from "./safety-numbers-core.ts";

export { formatSafetyNumber, SAFETY_NUMBER_ITERATIONS, SAFETY_QR_VERSION, type FingerprintParty, type SafetyQrResult } from "./safety-numbers-core.ts";

import type { FingerprintParty, SafetyQrResult } from "./safety-numbers-core.ts";

// Plain functions (no module-level call), so a bundle that does not use them drops them.

/** 60 digits; the same on both devices whichever side computes it. */
export function computeSafetyNumber(local: FingerprintParty, remote: FingerprintParty): string {
  return createSafetyNumbers(computeSha512).computeSafetyNumber(local, remote);
}

/** QR payload: version ‖ hash(local)[0..32] ‖ hash(remote)[0..32], from the displaying side. */
export function createSafetyQrPayload(local: FingerprintParty, remote: FingerprintParty): Uint8Array {
  return createSafetyNumbers(computeSha512).createSafetyQrPayload(local, remote);
}

/** A payload scanned from the other device's screen: both halves compared in constant time. */
export function verifySafetyQrPayload(local: FingerprintParty, remote: FingerprintParty, scanned: Uint8Array): SafetyQrResult {
  return createSafetyNumbers(computeSha512).verifySafetyQrPayload(local, remote, scanned);
}
