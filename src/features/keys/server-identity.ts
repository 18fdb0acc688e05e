/**
 * The server's identity for client pinning (seeds/004: "clients remember the server identity and
 * warn if it unexpectedly changes"; client side: checkServerIdentity in src/client/e2ee).
 *
 * A dedicated Ed25519 key pair, generated once per installation and stored in instance_settings
 * (so it lives and dies with the database: a restored backup keeps it, a different server has a
 * different one). Not the JWT key: operators rotate that (seeds/000 "Key Rotation") and every
 * rotation would raise a scary warning on every client, training users to click it away.
 *
 * The fingerprint alone is public and could be copied by an impostor, so a client that wants
 * proof sends a fresh random challenge and checks the signature over
 *   "Hearth server identity v1\0" ‖ challenge
 * with the published public key: only a server holding the private key can answer.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { decodeBase64url, encodeBase64url, WireFormatError } from "../../shared/e2ee/index.ts";
import { keysKernelOf } from "./kernel.ts";
import { findOrCreateServerIdentity } from "./queries.ts";

const CONTEXT = new TextEncoder().encode("Hearth server identity v1\0");
export const SERVER_IDENTITY_CHALLENGE_LENGTH = 32;

async function loadKeyPair(deps: AppDeps): Promise<{ publicKey: Uint8Array; privateKey: Uint8Array }> {
  const kernel = keysKernelOf(deps);
  kernel.serverIdentity ??= (async () => {
    const { secretKey, publicKey } = ed25519.keygen();
    const stored = await findOrCreateServerIdentity(deps.database.db, {
      publicKey: encodeBase64url(publicKey),
      privateKey: encodeBase64url(secretKey),
      createdAt: new Date(kernel.now()).toISOString(),
    });
    return { publicKey: decodeBase64url(stored.publicKey), privateKey: decodeBase64url(stored.privateKey) };
  })().catch((error) => {
    kernel.serverIdentity = undefined; // a database hiccup must not poison the cache
    throw error;
  });
  return kernel.serverIdentity;
}

/** Lower-case hex SHA-256 of the 32-byte public key: what clients pin and users can compare. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return Array.from(sha256(publicKey), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function serverIdentitySignedBytes(challenge: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONTEXT.length + challenge.length);
  out.set(CONTEXT);
  out.set(challenge, CONTEXT.length);
  return out;
}

export async function describeServerIdentity(deps: AppDeps, challengeText?: string): Promise<Record<string, unknown>> {
  const { publicKey, privateKey } = await loadKeyPair(deps);
  const out: Record<string, unknown> = { v: 1, algorithm: "Ed25519", publicKey: encodeBase64url(publicKey), fingerprint: fingerprintOf(publicKey) };
  if (challengeText !== undefined) {
    let challenge: Uint8Array;
    try {
      challenge = decodeBase64url(challengeText, "challenge");
    } catch (error) {
      if (error instanceof WireFormatError) throw new InvalidInputError("The challenge must be base64url.", { challenge: "Not base64url." }, error.code);
      throw error;
    }
    if (challenge.length !== SERVER_IDENTITY_CHALLENGE_LENGTH) {
      throw new InvalidInputError(`The challenge must be ${SERVER_IDENTITY_CHALLENGE_LENGTH} random bytes.`, { challenge: "Wrong length." }, "INVALID_LENGTH");
    }
    out["challenge"] = challengeText;
    out["signature"] = encodeBase64url(ed25519.sign(serverIdentitySignedBytes(challenge), privateKey));
  }
  return out;
}
