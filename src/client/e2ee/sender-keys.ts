// Sender Keys for channels, after libsignal's group cipher: each (channel, sender device) has a
// random chain key that is hashed forward per message and an Ed25519 key that signs every
// message. Members receive the chain key and the signing public key in a distribution message
// carried only inside pairwise Double Ratchet sessions. Differences from libsignal: AEAD is
// XChaCha20-Poly1305 (see message-crypto.ts) and the channel id, sender device id, key id and
// iteration are bound into both the AEAD and the signature, so a message cannot be replayed
// into another channel or attributed to another device.

import { MAX_KEY_ID, MAX_MESSAGE_COUNTER } from "../../shared/e2ee/constants.ts";
import type { SenderKeyDistribution, SenderKeyMessage } from "../../shared/e2ee/sender-key-messages.ts";
import { concatBytes, encodeUint32, encodeUtf8, randomBytes } from "./bytes.ts";
import { E2eeError } from "./errors.ts";
import { openWithMessageKey, sealWithMessageKey } from "./message-crypto.ts";
import { computeHmacSha256, generateSigningKeyPair, signBytes, verifySignature, type KeyPair } from "./primitives.ts";

/** Most message keys one incoming group message may skip ahead. */
export const MAX_SENDER_KEY_SKIP = 1000;
/** Most skipped keys kept per received sender key. */
export const MAX_SENDER_KEY_SKIPPED_TOTAL = 2000;

const CONTEXT = encodeUtf8("Hearth sender key v1\0");

export interface OwnSenderKey {
  channelId: string;
  keyId: number;
  iteration: number;
  chainKey: Uint8Array;
  signing: KeyPair;
  createdAt: number;
  messageCount: number;
}

export interface ReceivedSenderKey {
  channelId: string;
  senderDeviceId: string;
  keyId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array;
  skipped: Map<number, Uint8Array>;
}

export function createOwnSenderKey(channelId: string, now: number): OwnSenderKey {
  const keyId = new DataView(randomBytes(4).buffer).getUint32(0) % MAX_KEY_ID;
  return { channelId, keyId, iteration: 0, chainKey: randomBytes(32), signing: generateSigningKeyPair(), createdAt: now, messageCount: 0 };
}

/** Distribution for the current chain position: recipients cannot read earlier messages. */
export function createSenderKeyDistribution(own: OwnSenderKey): SenderKeyDistribution {
  return { channelId: own.channelId, keyId: own.keyId, iteration: own.iteration, chainKey: own.chainKey, signingKey: own.signing.publicKey };
}

function deriveChainStep(chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  return [computeHmacSha256(chainKey, Uint8Array.of(0x02)), computeHmacSha256(chainKey, Uint8Array.of(0x01))];
}

function lengthPrefixed(text: string): Uint8Array {
  const bytes = encodeUtf8(text);
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}

/** Associated data bound into the AEAD and covered by the signature. */
export function encodeGroupMessageContext(channelId: string, senderDeviceId: string, keyId: number, iteration: number): Uint8Array {
  return concatBytes(CONTEXT, lengthPrefixed(channelId), lengthPrefixed(senderDeviceId), encodeUint32(keyId), encodeUint32(iteration));
}

export function encryptGroupMessage(
  own: OwnSenderKey,
  senderDeviceId: string,
  plaintext: Uint8Array,
): { message: SenderKeyMessage; messageKey: Uint8Array } {
  if (own.iteration >= MAX_MESSAGE_COUNTER) throw new E2eeError("INVALID_STATE", "sender key exhausted: rotate");
  const [nextChainKey, messageKey] = deriveChainStep(own.chainKey);
  const context = encodeGroupMessageContext(own.channelId, senderDeviceId, own.keyId, own.iteration);
  const ciphertext = sealWithMessageKey(messageKey, plaintext, context);
  const signature = signBytes(own.signing.privateKey, concatBytes(context, ciphertext));
  const message: SenderKeyMessage = { keyId: own.keyId, iteration: own.iteration, ciphertext, signature };
  own.chainKey = nextChainKey;
  own.iteration += 1;
  own.messageCount += 1;
  return { message, messageKey };
}

export function createReceivedSenderKey(senderDeviceId: string, distribution: SenderKeyDistribution): ReceivedSenderKey {
  return {
    channelId: distribution.channelId,
    senderDeviceId,
    keyId: distribution.keyId,
    iteration: distribution.iteration,
    chainKey: distribution.chainKey,
    signingKey: distribution.signingKey,
    skipped: new Map(),
  };
}

/** Signature first (cheap rejection of forgeries, and no state change), then chain, then AEAD. */
export function decryptGroupMessage(state: ReceivedSenderKey, message: SenderKeyMessage): { plaintext: Uint8Array; messageKey: Uint8Array } {
  if (message.keyId !== state.keyId) throw new E2eeError("UNKNOWN_SENDER_KEY", "message uses another sender key id");
  const context = encodeGroupMessageContext(state.channelId, state.senderDeviceId, message.keyId, message.iteration);
  if (!verifySignature(state.signingKey, concatBytes(context, message.ciphertext), message.signature)) {
    throw new E2eeError("INVALID_SIGNATURE", "group message signature does not verify");
  }
  if (message.iteration < state.iteration) {
    const messageKey = state.skipped.get(message.iteration);
    if (!messageKey) throw new E2eeError("REPLAYED_MESSAGE", "message key already used");
    const plaintext = openWithMessageKey(messageKey, message.ciphertext, context);
    state.skipped.delete(message.iteration);
    return { plaintext, messageKey };
  }
  if (message.iteration - state.iteration > MAX_SENDER_KEY_SKIP) {
    throw new E2eeError("TOO_MANY_SKIPPED", `more than ${MAX_SENDER_KEY_SKIP} skipped messages`);
  }
  let chainKey = state.chainKey;
  const pending: Array<[number, Uint8Array]> = [];
  for (let i = state.iteration; i < message.iteration; i++) {
    const [next, skippedKey] = deriveChainStep(chainKey);
    pending.push([i, skippedKey]);
    chainKey = next;
  }
  const [nextChainKey, messageKey] = deriveChainStep(chainKey);
  const plaintext = openWithMessageKey(messageKey, message.ciphertext, context);
  // Commit only after the AEAD verified.
  for (const [i, key] of pending) state.skipped.set(i, key);
  let excess = state.skipped.size - MAX_SENDER_KEY_SKIPPED_TOTAL;
  for (const i of state.skipped.keys()) {
    if (excess-- <= 0) break;
    state.skipped.delete(i);
  }
  state.chainKey = nextChainKey;
  state.iteration = message.iteration + 1;
  return { plaintext, messageKey };
}

/**
 * Reads an old group message from history with an archived message key. Pass the sender key's
 * signing public key when it is still known (a SenderKeyStore keeps the last few per sender) so
 * the signature is checked too; without it only the AEAD authenticates the message.
 */
export function decryptGroupMessageWithKey(
  messageKey: Uint8Array,
  channelId: string,
  senderDeviceId: string,
  message: SenderKeyMessage,
  signingKey?: Uint8Array,
): Uint8Array {
  const context = encodeGroupMessageContext(channelId, senderDeviceId, message.keyId, message.iteration);
  if (signingKey && !verifySignature(signingKey, concatBytes(context, message.ciphertext), message.signature)) {
    throw new E2eeError("INVALID_SIGNATURE", "group message signature does not verify");
  }
  return openWithMessageKey(messageKey, message.ciphertext, context);
}
