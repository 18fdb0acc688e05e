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

/** Sessions kept per peer device (newest first): enough to survive simultaneous initiation. */
export const MAX_SESSIONS_PER_DEVICE = 3;

/** Moves `session` to the front (it is the one to send with from now on) and trims the list. */
export function promoteSession(sessions: readonly PairwiseSession[], session: PairwiseSession): PairwiseSession[] {
  return [session, ...sessions.filter((s) => s !== session)].slice(0, MAX_SESSIONS_PER_DEVICE);
}

/**
 * Decrypts a pairwise message from `sender` given the sessions kept for that device, newest first.
 * The initiator repeats its X3DH header until it hears back, so a header whose ephemeral key
 * created one of `sessions` belongs to that session (e.g. the second message arrived first); a
 * header with an unknown ephemeral key starts a new session (peer reinstalled, or both sides
 * initiated at once). A message without a header is tried on each session in turn (decryption is
 * transactional, so failed attempts change nothing). The app then calls `promoteSession` with the
 * returned session and sends with the list's first session.
 */
export function receivePairwiseMessage(
  self: DeviceIdentity,
  sessions: readonly PairwiseSession[],
  sender: { userId: string; deviceId: string },
  message: RatchetMessage,
): { session: PairwiseSession; plaintext: Uint8Array; messageKey: Uint8Array; isNewSession: boolean } {
  if (message.x3dh) {
    const ephemeralKey = message.x3dh.ephemeralKey;
    const existing = sessions.find((s) => equalBytes(s.initialEphemeralKey, ephemeralKey));
    if (existing) return { session: existing, ...decryptRatchetMessage(existing.ratchet, message), isNewSession: false };
    return { ...acceptSessionAsResponder(self, sender, message), isNewSession: true };
  }
  if (sessions.length === 0) throw new E2eeError("NO_SESSION", "no session with this device");
  let firstError: unknown;
  for (const session of sessions) {
    try {
      return { session, ...decryptRatchetMessage(session.ratchet, message), isNewSession: false };
    } catch (error) {
      firstError ??= error;
    }
  }
  throw firstError;
}
