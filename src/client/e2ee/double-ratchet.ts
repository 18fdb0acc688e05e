// Double Ratchet (Signal spec, revision 4, §3 with §3.5 skipped message keys) for one device pair.
// KDF_RK = HKDF-SHA256(salt = root key, ikm = DH output); KDF_CK = HMAC-SHA256(ck, 0x01) for the
// message key and HMAC-SHA256(ck, 0x02) for the next chain key (spec §5.2 recommendations).
// Decryption is transactional: all changes are computed on a copy and committed only after the
// AEAD verifies, so a forged or corrupted message can never advance or damage the state.

import { MAX_MESSAGE_COUNTER } from "../../shared/e2ee/constants.ts";
import { encodeRatchetHeaderBytes, type RatchetHeader, type RatchetMessage, type X3dhHeader } from "../../shared/e2ee/ratchet-message.ts";
import { toB64 } from "./codec.ts";
import { concatBytes, encodeUtf8, equalBytes } from "./bytes.ts";
import { E2eeError } from "./errors.ts";
import { openWithMessageKey, sealWithMessageKey } from "./message-crypto.ts";
import { computeDh, computeHmacSha256, deriveHkdf, generateDhKeyPair, type KeyPair } from "./primitives.ts";

/** Most message keys skipped in one chain by one incoming message (spec's MAX_SKIP). */
export const MAX_SKIP = 1000;
/** Most skipped keys kept per session across all chains; oldest are evicted first. */
export const MAX_SKIPPED_KEYS_TOTAL = 2000;

const ROOT_INFO = encodeUtf8("Hearth ratchet v1");
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export interface RatchetState {
  dhSelf: KeyPair;
  dhRemote: Uint8Array | null;
  rootKey: Uint8Array;
  sendChainKey: Uint8Array | null;
  receiveChainKey: Uint8Array | null;
  sendCount: number; // Ns
  receiveCount: number; // Nr
  previousSendCount: number; // PN
  /** Skipped message keys by `${base64url(dh)}:${n}`, in insertion order (for eviction). */
  skipped: Map<string, Uint8Array>;
  /** X3DH AD = initiator identity ‖ responder identity, bound into every message. */
  associatedData: Uint8Array;
  /** Initiator side: X3DH header repeated on every message until the first reply arrives. */
  pendingX3dh: X3dhHeader | null;
}

export interface EncryptResult {
  message: RatchetMessage;
  /** Returned so the caller can archive it for history (see message-key-archive.ts). */
  messageKey: Uint8Array;
}
export interface DecryptResult {
  plaintext: Uint8Array;
  messageKey: Uint8Array;
}

function deriveRootKeys(rootKey: Uint8Array, dhOutput: Uint8Array): [Uint8Array, Uint8Array] {
  const okm = deriveHkdf(dhOutput, rootKey, ROOT_INFO, 64);
  return [okm.slice(0, 32), okm.slice(32)];
}

function deriveChainKeys(chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  return [computeHmacSha256(chainKey, CHAIN_KEY_SEED), computeHmacSha256(chainKey, MESSAGE_KEY_SEED)];
}

function skippedKeyName(dh: Uint8Array, n: number): string {
  return `${toB64(dh)}:${n}`;
}

/** Alice (X3DH initiator): knows Bob's signed prekey, which serves as his first ratchet key. */
export function initialiseRatchetAsInitiator(sharedSecret: Uint8Array, remoteRatchetKey: Uint8Array, associatedData: Uint8Array): RatchetState {
  const dhSelf = generateDhKeyPair();
  const [rootKey, sendChainKey] = deriveRootKeys(sharedSecret, computeDh(dhSelf.privateKey, remoteRatchetKey));
  return {
    dhSelf,
    dhRemote: remoteRatchetKey,
    rootKey,
    sendChainKey,
    receiveChainKey: null,
    sendCount: 0,
    receiveCount: 0,
    previousSendCount: 0,
    skipped: new Map(),
    associatedData,
    pendingX3dh: null,
  };
}

/** Bob (X3DH responder): his signed prekey pair is the first ratchet key pair. */
export function initialiseRatchetAsResponder(sharedSecret: Uint8Array, signedPrekey: KeyPair, associatedData: Uint8Array): RatchetState {
  return {
    dhSelf: signedPrekey,
    dhRemote: null,
    rootKey: sharedSecret,
    sendChainKey: null,
    receiveChainKey: null,
    sendCount: 0,
    receiveCount: 0,
    previousSendCount: 0,
    skipped: new Map(),
    associatedData,
    pendingX3dh: null,
  };
}

function buildAssociatedData(state: RatchetState, header: RatchetHeader): Uint8Array {
  return concatBytes(state.associatedData, encodeRatchetHeaderBytes(header));
}

export function encryptRatchetMessage(state: RatchetState, plaintext: Uint8Array): EncryptResult {
  if (state.sendChainKey === null) throw new E2eeError("NO_SESSION", "no sending chain yet: wait for the first message");
  if (state.sendCount >= MAX_MESSAGE_COUNTER) throw new E2eeError("INVALID_STATE", "sending chain exhausted");
  const [nextChainKey, messageKey] = deriveChainKeys(state.sendChainKey);
  const header: RatchetHeader = { dh: state.dhSelf.publicKey, pn: state.previousSendCount, n: state.sendCount };
  const ciphertext = sealWithMessageKey(messageKey, plaintext, buildAssociatedData(state, header));
  state.sendChainKey = nextChainKey;
  state.sendCount += 1;
  const message: RatchetMessage = { header, ciphertext };
  if (state.pendingX3dh) message.x3dh = state.pendingX3dh;
  return { message, messageKey };
}

/** Skipped keys found while working on a copy; committed to the real state only on success. */
type PendingSkipped = Array<[string, Uint8Array]>;

function skipMessageKeys(work: RatchetState, until: number, pending: PendingSkipped): void {
  if (work.receiveChainKey === null) return;
  if (until - work.receiveCount > MAX_SKIP) throw new E2eeError("TOO_MANY_SKIPPED", `more than ${MAX_SKIP} skipped messages`);
  while (work.receiveCount < until) {
    const [nextChainKey, messageKey] = deriveChainKeys(work.receiveChainKey);
    pending.push([skippedKeyName(work.dhRemote!, work.receiveCount), messageKey]);
    work.receiveChainKey = nextChainKey;
    work.receiveCount += 1;
  }
}

function stepDhRatchet(work: RatchetState, remoteKey: Uint8Array): void {
  work.previousSendCount = work.sendCount;
  work.sendCount = 0;
  work.receiveCount = 0;
  work.dhRemote = remoteKey;
  const [rootKey1, receiveChainKey] = deriveRootKeys(work.rootKey, computeDh(work.dhSelf.privateKey, remoteKey));
  work.receiveChainKey = receiveChainKey;
  work.dhSelf = generateDhKeyPair();
  const [rootKey2, sendChainKey] = deriveRootKeys(rootKey1, computeDh(work.dhSelf.privateKey, remoteKey));
  work.rootKey = rootKey2;
  work.sendChainKey = sendChainKey;
}

function storeSkippedKeys(state: RatchetState, pending: PendingSkipped): void {
  for (const [name, key] of pending) state.skipped.set(name, key);
  // Global cap: evict the oldest keys (Map keeps insertion order). A message whose key was
  // evicted can no longer be read: the price of bounding memory against a flooding sender.
  let excess = state.skipped.size - MAX_SKIPPED_KEYS_TOTAL;
  for (const name of state.skipped.keys()) {
    if (excess-- <= 0) break;
    state.skipped.delete(name);
  }
}

export function decryptRatchetMessage(state: RatchetState, message: RatchetMessage): DecryptResult {
  const { header } = message;
  const name = skippedKeyName(header.dh, header.n);
  const skippedKey = state.skipped.get(name);
  if (skippedKey) {
    const plaintext = openWithMessageKey(skippedKey, message.ciphertext, buildAssociatedData(state, header));
    state.skipped.delete(name); // used once: a replay finds nothing
    state.pendingX3dh = null;
    return { plaintext, messageKey: skippedKey };
  }

  const work: RatchetState = { ...state };
  const pending: PendingSkipped = [];
  const isNewRatchetKey = work.dhRemote === null || !equalBytes(header.dh, work.dhRemote);
  if (isNewRatchetKey) {
    // Check both skips' bounds before any expensive work.
    if (work.receiveChainKey !== null && header.pn - work.receiveCount > MAX_SKIP) {
      throw new E2eeError("TOO_MANY_SKIPPED", `more than ${MAX_SKIP} skipped messages`);
    }
    if (header.n > MAX_SKIP) throw new E2eeError("TOO_MANY_SKIPPED", `more than ${MAX_SKIP} skipped messages`);
    skipMessageKeys(work, header.pn, pending);
    stepDhRatchet(work, header.dh);
  } else if (header.n < work.receiveCount) {
    // Same chain, earlier number, and not in the skipped store: its key was used (or evicted).
    throw new E2eeError("REPLAYED_MESSAGE", "message key already used");
  }
  // Only reachable without a chain when a header names the responder's signed prekey as its
  // ratchet key before any reply: nothing legitimate was encrypted that way.
  if (work.receiveChainKey === null) throw new E2eeError("DECRYPT_FAILED", "no receiving chain for this ratchet key");
  skipMessageKeys(work, header.n, pending);
  const [nextChainKey, messageKey] = deriveChainKeys(work.receiveChainKey);
  work.receiveChainKey = nextChainKey;
  work.receiveCount += 1;
  const plaintext = openWithMessageKey(messageKey, message.ciphertext, buildAssociatedData(state, header));

  Object.assign(state, work, { skipped: state.skipped, pendingX3dh: null });
  storeSkippedKeys(state, pending);
  return { plaintext, messageKey };
}

/** Reads an old message from history with an archived message key (no ratchet involved). */
export function decryptRatchetMessageWithKey(messageKey: Uint8Array, associatedData: Uint8Array, message: RatchetMessage): Uint8Array {
  return openWithMessageKey(messageKey, message.ciphertext, concatBytes(associatedData, encodeRatchetHeaderBytes(message.header)));
}
