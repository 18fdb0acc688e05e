// One AEAD construction for every chat message key (Double Ratchet and Sender Keys): the 32-byte
// message key is expanded with HKDF into an XChaCha20-Poly1305 key and nonce. Each message key
// encrypts exactly one message, so a derived (not random) nonce is safe and saves 24 wire bytes;
// this mirrors the Double Ratchet spec's recommended ENCRYPT (§5.2), with XChaCha instead of CBC+HMAC.

import { encodeUtf8 } from "./bytes.ts";
import { deriveHkdf, openXChaCha, sealXChaCha, XCHACHA_NONCE_LENGTH } from "./primitives.ts";

const MESSAGE_KEY_INFO = encodeUtf8("Hearth message key v1");

function expandMessageKey(messageKey: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const okm = deriveHkdf(messageKey, undefined, MESSAGE_KEY_INFO, 32 + XCHACHA_NONCE_LENGTH);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32) };
}

export function sealWithMessageKey(messageKey: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  const { key, nonce } = expandMessageKey(messageKey);
  return sealXChaCha(key, nonce, plaintext, associatedData);
}

/** Throws E2eeError DECRYPT_FAILED when the ciphertext or associated data was altered. */
export function openWithMessageKey(messageKey: Uint8Array, ciphertext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  const { key, nonce } = expandMessageKey(messageKey);
  return openXChaCha(key, nonce, ciphertext, associatedData);
}
