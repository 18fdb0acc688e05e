// Where a device keeps its sender keys: its own current key per channel and the keys received
// from other devices, plus the rotation rule and the pairwise distribution helper.

import { encodeSenderKeyDistribution, parseSenderKeyDistribution } from "../../shared/e2ee/sender-key-messages.ts";
import type { PairwiseEnvelope } from "../../shared/e2ee/envelope.ts";
import { encodeUtf8 } from "./bytes.ts";
import {
  checkStateVersion,
  fromB64,
  readStateArray,
  readStateInteger,
  readStateObject,
  readStateString,
  toB64,
} from "./codec.ts";
import { E2eeError } from "./errors.ts";
import { encryptForDevices } from "./pairwise-session.ts";
import {
  createOwnSenderKey,
  createReceivedSenderKey,
  createSenderKeyDistribution,
  type OwnSenderKey,
  type ReceivedSenderKey,
} from "./sender-keys.ts";
import type { PairwiseSession } from "./x3dh.ts";

export const SENDER_KEY_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const SENDER_KEY_MAX_MESSAGES = 1000;
/** Older key ids of one sender are kept for late messages, but only a few. */
export const MAX_RECEIVED_KEYS_PER_SENDER = 4;

/** Rotate when membership shrank (leave, kick, ban), after 7 days, or after 1000 messages. */
export function shouldRotateSenderKey(
  key: { createdAt: number; messageCount: number; membershipChanged: boolean },
  now: number,
): boolean {
  return key.membershipChanged || now - key.createdAt >= SENDER_KEY_MAX_AGE_MS || key.messageCount >= SENDER_KEY_MAX_MESSAGES;
}

export class SenderKeyStore {
  readonly own = new Map<string, OwnSenderKey>();
  /** Received keys by `${channelId}/${senderDeviceId}`, newest last. */
  readonly received = new Map<string, ReceivedSenderKey[]>();

  /** Current own key for a channel, creating a fresh one (new random key id) when missing. */
  getOrCreateOwnKey(channelId: string, now: number): { key: OwnSenderKey; created: boolean } {
    const existing = this.own.get(channelId);
    if (existing) return { key: existing, created: false };
    const key = createOwnSenderKey(channelId, now);
    this.own.set(channelId, key);
    return { key, created: true };
  }

  /** Drops the own key so the next send creates and distributes a new one. */
  rotateOwnKey(channelId: string, now: number): OwnSenderKey {
    this.own.delete(channelId);
    return this.getOrCreateOwnKey(channelId, now).key;
  }

  /** Stores a distribution received over `session` (the sender device is the session's peer). */
  acceptDistribution(session: PairwiseSession, distributionBytes: Uint8Array): ReceivedSenderKey {
    const distribution = parseSenderKeyDistribution(distributionBytes);
    const senderDeviceId = session.remote.deviceId;
    const name = `${distribution.channelId}/${senderDeviceId}`;
    const list = (this.received.get(name) ?? []).filter((k) => k.keyId !== distribution.keyId);
    const state = createReceivedSenderKey(senderDeviceId, distribution);
    list.push(state);
    while (list.length > MAX_RECEIVED_KEYS_PER_SENDER) list.shift();
    this.received.set(name, list);
    return state;
  }

  findReceivedKey(channelId: string, senderDeviceId: string, keyId: number): ReceivedSenderKey {
    const state = this.received.get(`${channelId}/${senderDeviceId}`)?.find((k) => k.keyId === keyId);
    if (!state) throw new E2eeError("UNKNOWN_SENDER_KEY", "no sender key for this channel, device and key id");
    return state;
  }

  /** Forget everything from one channel (this device left it). */
  forgetChannel(channelId: string): void {
    this.own.delete(channelId);
    for (const name of [...this.received.keys()]) if (name.startsWith(`${channelId}/`)) this.received.delete(name);
  }
}

/**
 * Produces the distribution message for `own` and encrypts it separately for every member device
 * over its pairwise session; the server only ever sees the resulting ciphertexts. Pass exactly
 * the devices that remain members: a removed member's devices are simply not in the list.
 */
export function distributeSenderKey(
  own: OwnSenderKey,
  senderDeviceId: string,
  memberDevices: ReadonlyArray<{ deviceId: string; session: PairwiseSession }>,
): PairwiseEnvelope {
  const bytes = encodeSenderKeyDistributionBytes(own);
  return encryptForDevices(senderDeviceId, memberDevices, bytes).envelope;
}

export function encodeSenderKeyDistributionBytes(own: OwnSenderKey): Uint8Array {
  return encodeUtf8(JSON.stringify(encodeSenderKeyDistribution(createSenderKeyDistribution(own))));
}

// ---- serialisation -------------------------------------------------------------------------

const STATE_VERSION = 1;

export function serialiseSenderKeyStore(store: SenderKeyStore): Record<string, unknown> {
  return {
    v: STATE_VERSION,
    own: [...store.own.values()].map((k) => ({
      channelId: k.channelId,
      keyId: k.keyId,
      iteration: k.iteration,
      chainKey: toB64(k.chainKey),
      signing: [toB64(k.signing.publicKey), toB64(k.signing.privateKey)],
      createdAt: k.createdAt,
      messageCount: k.messageCount,
    })),
    received: [...store.received.values()].flat().map((k) => ({
      channelId: k.channelId,
      senderDeviceId: k.senderDeviceId,
      keyId: k.keyId,
      iteration: k.iteration,
      chainKey: toB64(k.chainKey),
      signingKey: toB64(k.signingKey),
      skipped: [...k.skipped].map(([i, key]) => [i, toB64(key)]),
    })),
  };
}

export function restoreSenderKeyStore(value: unknown): SenderKeyStore {
  const o = readStateObject(value, "senderKeys");
  checkStateVersion(o, STATE_VERSION, "senderKeys");
  const store = new SenderKeyStore();
  for (const item of readStateArray(o["own"], "senderKeys.own")) {
    const k = readStateObject(item, "senderKeys.own[]");
    const signing = readStateArray(k["signing"], "own.signing");
    const own: OwnSenderKey = {
      channelId: readStateString(k["channelId"], "own.channelId"),
      keyId: readStateInteger(k["keyId"], "own.keyId"),
      iteration: readStateInteger(k["iteration"], "own.iteration"),
      chainKey: fromB64(k["chainKey"], 32, "own.chainKey"),
      signing: { publicKey: fromB64(signing[0], 32, "own.signing.public"), privateKey: fromB64(signing[1], 32, "own.signing.private") },
      createdAt: readStateInteger(k["createdAt"], "own.createdAt"),
      messageCount: readStateInteger(k["messageCount"], "own.messageCount"),
    };
    store.own.set(own.channelId, own);
  }
  for (const item of readStateArray(o["received"], "senderKeys.received")) {
    const k = readStateObject(item, "senderKeys.received[]");
    const skipped = new Map<number, Uint8Array>();
    for (const entry of readStateArray(k["skipped"], "received.skipped")) {
      const e = readStateArray(entry, "received.skipped[]");
      skipped.set(readStateInteger(e[0], "skipped.iteration"), fromB64(e[1], 32, "skipped.key"));
    }
    const state: ReceivedSenderKey = {
      channelId: readStateString(k["channelId"], "received.channelId"),
      senderDeviceId: readStateString(k["senderDeviceId"], "received.senderDeviceId"),
      keyId: readStateInteger(k["keyId"], "received.keyId"),
      iteration: readStateInteger(k["iteration"], "received.iteration"),
      chainKey: fromB64(k["chainKey"], 32, "received.chainKey"),
      signingKey: fromB64(k["signingKey"], 32, "received.signingKey"),
      skipped,
    };
    const name = `${state.channelId}/${state.senderDeviceId}`;
    store.received.set(name, [...(store.received.get(name) ?? []), state]);
  }
  return store;
}

