// The only place that touches the primitive libraries, so every primitive we rely on has one
// call site that the known-answer tests exercise. All primitives are audited @noble/* code.

import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { randomBytes } from "./bytes.ts";
import { E2eeError } from "./errors.ts";

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export function generateDhKeyPair(): KeyPair {
  const privateKey = randomBytes(32);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function generateSigningKeyPair(): KeyPair {
  const privateKey = randomBytes(32);
  return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
}

/** X25519. Rejects an all-zero result (low-order peer key), as X3DH and RFC 7748 §6.1 advise. */
export function computeDh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    throw new E2eeError("DECRYPT_FAILED", "invalid Diffie-Hellman public key");
  }
}

export function signBytes(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, privateKey);
}

export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

export function deriveHkdf(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array {
  return hkdf(sha256, ikm, salt, info, length);
}

export function computeHmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(sha256, key, data);
}

export function computeSha512(data: Uint8Array): Uint8Array {
  return sha512(data);
}

export function computeSha256(data: Uint8Array): Uint8Array {
  return sha256(data);
}

export const XCHACHA_NONCE_LENGTH = 24;

export function sealXChaCha(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce, associatedData).encrypt(plaintext);
}

export function openXChaCha(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  try {
    return xchacha20poly1305(key, nonce, associatedData).decrypt(ciphertext);
  } catch {
    throw new E2eeError("DECRYPT_FAILED", "authentication failed");
  }
}
