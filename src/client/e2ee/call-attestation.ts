// Signing and verifying a call's DTLS fingerprint attestation with the device's Ed25519 key
// (format and checks: src/shared/call-attestation.ts; docs/crypto.md, "Calls"). The result is
// the plaintext of a pairwise Double Ratchet message to the peer's device; its base64url wire
// form travels in `rtc:signal.attestation`.

import { attestationSignedBytes, encodeAttestationPlaintext, parseAttestationPlaintext, type CallAttestation } from "../../shared/call-attestation.ts";
import type { DeviceIdentity } from "./device-identity.ts";
import { signBytes, verifySignature } from "./primitives.ts";

export function signCallAttestation(device: DeviceIdentity, attestation: CallAttestation): Uint8Array {
  return encodeAttestationPlaintext(attestation, signBytes(device.signing.privateKey, attestationSignedBytes(attestation)));
}

/** The attestation when `plaintext` is one signed by `signingKey` (the sender device's Ed25519 key); else null. */
export function verifyCallAttestation(signingKey: Uint8Array, plaintext: Uint8Array): CallAttestation | null {
  const parsed = parseAttestationPlaintext(plaintext);
  if (!parsed) return null;
  return verifySignature(signingKey, attestationSignedBytes(parsed.attestation), parsed.signature) ? parsed.attestation : null;
}
