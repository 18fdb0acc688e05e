// Pairwise sessions as the app uses them: serialise/restore, and fan-out of one plaintext to
// several devices as a PairwiseEnvelope (each device gets its own Double Ratchet ciphertext).

import type { PairwiseEnvelope } from "../../shared/e2ee/envelope.ts";
import { checkStateVersion, fromB64, readStateObject, readStateString, toB64 } from "./codec.ts";
import { decryptRatchetMessage, encryptRatchetMessage, type DecryptResult } from "./double-ratchet.ts";
import { E2eeError } from "./errors.ts";
import { restoreRatchetState, serialiseRatchetState } from "./ratchet-state-codec.ts";
import { equalBytes } from "./bytes.ts";
import type { DeviceIdentity } from "./device-identity.ts";
import type { RatchetMessage } from "../../shared/e2ee/ratchet-message.ts";
import { acceptSessionAsResponder, type PairwiseSession } from "./x3dh.ts";

const STATE_VERSION = 1;

export function serialisePairwiseSession(session: PairwiseSession): Record<string, unknown> {
  return {
    v: STATE_VERSION,
    remote: {
      userId: session.remote.userId,
      deviceId: session.remote.deviceId,
      signingKey: toB64(session.remote.signingKey),
      identityKey: toB64(session.remote.identityKey),
    },
    ratchet: serialiseRatchetState(session.ratchet),
    initialEphemeralKey: toB64(session.initialEphemeralKey),
  };
}

export function restorePairwiseSession(value: unknown): PairwiseSession {
  const o = readStateObject(value, "session");
  checkStateVersion(o, STATE_VERSION, "session");
  const r = readStateObject(o["remote"], "session.remote");
  return {
    remote: {
      userId: readStateString(r["userId"], "session.remote.userId"),
      deviceId: readStateString(r["deviceId"], "session.remote.deviceId"),
      signingKey: fromB64(r["signingKey"], 32, "session.remote.signingKey"),
      identityKey: fromB64(r["identityKey"], 32, "session.remote.identityKey"),
    },
    ratchet: restoreRatchetState(o["ratchet"]),
    initialEphemeralKey: fromB64(o["initialEphemeralKey"], 32, "session.initialEphemeralKey"),
  };
}

export interface EnvelopeResult {
  envelope: PairwiseEnvelope;
  /** Per recipient device, for the sender's own history archive. */
  messageKeys: Map<string, Uint8Array>;
}

/**
 * Encrypts one plaintext separately for each recipient device. Devices without a session must
 * get one first (X3DH); we refuse rather than silently skip a device.
 */
export function encryptForDevices(
  senderDeviceId: string,
  recipients: ReadonlyArray<{ deviceId: string; session: PairwiseSession }>,
  plaintext: Uint8Array,
): EnvelopeResult {
  if (recipients.length === 0) throw new E2eeError("NO_SESSION", "no recipient devices");
  const envelope: PairwiseEnvelope = { senderDeviceId, recipients: [] };
  const messageKeys = new Map<string, Uint8Array>();
  for (const { deviceId, session } of recipients) {
    if (session.remote.deviceId !== deviceId) throw new E2eeError("INVALID_STATE", `session is not for device ${deviceId}`);
    const { message, messageKey } = encryptRatchetMessage(session.ratchet, plaintext);
    envelope.recipients.push({ deviceId, message });
    messageKeys.set(deviceId, messageKey);
  }
  return { envelope, messageKeys };
}

/** Picks this device's entry out of an envelope and decrypts it with the existing session. */
export function decryptEnvelopeForDevice(envelope: PairwiseEnvelope, ownDeviceId: string, session: PairwiseSession): DecryptResult {
  const entry = envelope.recipients.find((r) => r.deviceId === ownDeviceId);
  if (!entry) throw new E2eeError("NO_SESSION", "envelope has no entry for this device");
  if (session.remote.deviceId !== envelope.senderDeviceId) throw new E2eeError("INVALID_STATE", "session is not for the sender device");
  return decryptRatchetMessage(session.ratchet, entry.message);
}

/**
 * Decrypts a pairwise message from `sender`, choosing between the existing session and a new one:
 * the initiator repeats its X3DH header until it hears back, so a header whose ephemeral key is the
 * one that created `existing` belongs to that session (e.g. the second message arrived first);
 * a header with a different ephemeral key means the peer started a new session (reinstall, lost
 * state), which replaces the old one once its first message authenticates.
 */
export function receivePairwiseMessage(
  self: DeviceIdentity,
  existing: PairwiseSession | undefined,
  sender: { userId: string; deviceId: string },
  message: RatchetMessage,
): { session: PairwiseSession; plaintext: Uint8Array; messageKey: Uint8Array; isNewSession: boolean } {
  if (existing && (!message.x3dh || equalBytes(message.x3dh.ephemeralKey, existing.initialEphemeralKey))) {
    return { session: existing, ...decryptRatchetMessage(existing.ratchet, message), isNewSession: false };
  }
  if (!message.x3dh) throw new E2eeError("NO_SESSION", "no session with this device");
  return { ...acceptSessionAsResponder(self, sender, message), isNewSession: true };
}
