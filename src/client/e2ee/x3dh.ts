// X3DH key agreement (Signal spec, §2-§3) with our split identity: the Ed25519 key only signs
// (the signed prekey), the X25519 identity key does the DH. Produces a pairwise session whose
// Double Ratchet is initialised from SK, with AD = identity(initiator) ‖ identity(responder).

import { validateSignedPrekeySignature, type PrekeyBundle } from "../../shared/e2ee/device-bundle.ts";
import type { RatchetMessage, X3dhHeader } from "../../shared/e2ee/ratchet-message.ts";
import { concatBytes, encodeUtf8, wipeBytes } from "./bytes.ts";
import {
  decryptRatchetMessage,
  initialiseRatchetAsInitiator,
  initialiseRatchetAsResponder,
  type RatchetState,
} from "./double-ratchet.ts";
import { encodeIdentityKeyBytes, findSignedPrekey, getDeviceIdentityKeyBytes, type DeviceIdentity } from "./device-identity.ts";
import { E2eeError } from "./errors.ts";
import { computeDh, deriveHkdf, generateDhKeyPair } from "./primitives.ts";

const X3DH_INFO = encodeUtf8("Hearth X3DH v1");
/** X3DH §2.2: F = 32 0xFF bytes for X25519, prepended so SK cannot collide with XEdDSA uses. */
const X3DH_F = new Uint8Array(32).fill(0xff);
const X3DH_SALT = new Uint8Array(32); // §2.2: zero-filled salt of hash length

/** The peer device this session talks to; its keys are what TOFU and safety numbers check. */
export interface RemoteDevice {
  userId: string;
  deviceId: string;
  signingKey: Uint8Array;
  identityKey: Uint8Array;
}

export interface PairwiseSession {
  remote: RemoteDevice;
  ratchet: RatchetState;
  /** X3DH ephemeral public key that created this session: tells a repeated initial message apart from a new session. */
  initialEphemeralKey: Uint8Array;
}

function deriveSharedSecret(dhOutputs: Uint8Array[]): Uint8Array {
  return deriveHkdf(concatBytes(X3DH_F, ...dhOutputs), X3DH_SALT, X3DH_INFO, 32);
}

/**
 * Initiator side (§3.3): verifies the signed prekey signature first, then DH1..DH4. The returned
 * session attaches the X3DH header to every message until the responder's first reply.
 */
export function startSessionAsInitiator(self: DeviceIdentity, bundle: PrekeyBundle): PairwiseSession {
  try {
    validateSignedPrekeySignature(bundle);
  } catch {
    throw new E2eeError("INVALID_SIGNATURE", "signed prekey signature does not verify");
  }
  const ephemeral = generateDhKeyPair();
  const dh1 = computeDh(self.identity.privateKey, bundle.signedPrekey.publicKey);
  const dh2 = computeDh(ephemeral.privateKey, bundle.identityKey);
  const dh3 = computeDh(ephemeral.privateKey, bundle.signedPrekey.publicKey);
  const outputs = [dh1, dh2, dh3];
  if (bundle.oneTimePrekey) outputs.push(computeDh(ephemeral.privateKey, bundle.oneTimePrekey.publicKey));
  const sharedSecret = deriveSharedSecret(outputs);
  // §3.3: delete the ephemeral private key and the DH outputs once SK is derived.
  wipeBytes(ephemeral.privateKey, ...outputs);
  const associatedData = concatBytes(getDeviceIdentityKeyBytes(self), encodeIdentityKeyBytes(bundle));
  const ratchet = initialiseRatchetAsInitiator(sharedSecret, bundle.signedPrekey.publicKey, associatedData);
  const x3dh: X3dhHeader = {
    signingKey: self.signing.publicKey,
    identityKey: self.identity.publicKey,
    ephemeralKey: ephemeral.publicKey,
    signedPrekeyId: bundle.signedPrekey.id,
  };
  if (bundle.oneTimePrekey) x3dh.oneTimePrekeyId = bundle.oneTimePrekey.id;
  ratchet.pendingX3dh = x3dh;
  return {
    remote: { userId: bundle.userId, deviceId: bundle.deviceId, signingKey: bundle.signingKey, identityKey: bundle.identityKey },
    ratchet,
    initialEphemeralKey: ephemeral.publicKey,
  };
}

/**
 * Responder side (§3.4): rebuilds SK from the header, decrypts the initial message, and only then
 * deletes the one-time prekey — a forged initial message must not burn a prekey.
 */
export function acceptSessionAsResponder(
  self: DeviceIdentity,
  sender: { userId: string; deviceId: string },
  message: RatchetMessage,
): { session: PairwiseSession; plaintext: Uint8Array; messageKey: Uint8Array } {
  const x3dh = message.x3dh;
  if (!x3dh) throw new E2eeError("NO_SESSION", "not an initial message");
  const signedPrekey = findSignedPrekey(self, x3dh.signedPrekeyId);
  if (!signedPrekey) throw new E2eeError("UNKNOWN_PREKEY", "unknown signed prekey id");
  const dh1 = computeDh(signedPrekey.keyPair.privateKey, x3dh.identityKey);
  const dh2 = computeDh(self.identity.privateKey, x3dh.ephemeralKey);
  const dh3 = computeDh(signedPrekey.keyPair.privateKey, x3dh.ephemeralKey);
  const outputs = [dh1, dh2, dh3];
  if (x3dh.oneTimePrekeyId !== undefined) {
    const oneTime = self.oneTimePrekeys.get(x3dh.oneTimePrekeyId);
    // Unknown = already used (a replayed initial message) or never ours.
    if (!oneTime) throw new E2eeError("UNKNOWN_PREKEY", "one-time prekey unknown or already used");
    outputs.push(computeDh(oneTime.privateKey, x3dh.ephemeralKey));
  }
  const sharedSecret = deriveSharedSecret(outputs);
  wipeBytes(...outputs);
  const associatedData = concatBytes(encodeIdentityKeyBytes(x3dh), getDeviceIdentityKeyBytes(self));
  const ratchet = initialiseRatchetAsResponder(sharedSecret, signedPrekey.keyPair, associatedData);
  const { plaintext, messageKey } = decryptRatchetMessage(ratchet, message);
  if (x3dh.oneTimePrekeyId !== undefined) self.oneTimePrekeys.delete(x3dh.oneTimePrekeyId);
  return {
    session: {
      remote: { userId: sender.userId, deviceId: sender.deviceId, signingKey: x3dh.signingKey, identityKey: x3dh.identityKey },
      ratchet,
      initialEphemeralKey: x3dh.ephemeralKey,
    },
    plaintext,
    messageKey,
  };
}
