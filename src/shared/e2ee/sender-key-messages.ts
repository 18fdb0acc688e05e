// Sender Key distribution message (travels only inside pairwise Double Ratchet ciphertext) and
// Sender Key group message (what the server stores and fans out for a channel).

import { encodeBase64url as b64 } from "./base64url.ts";
import {
  AEAD_TAG_LENGTH,
  CHAIN_KEY_LENGTH,
  MAX_MESSAGE_CIPHERTEXT_BYTES,
  MAX_MESSAGE_COUNTER,
  MAX_MESSAGE_JSON_BYTES,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  WIRE_VERSION,
} from "./constants.ts";
import { WireFormatError } from "./errors.ts";
import { checkKnownFields, checkVersion, readBytes, readId, readInteger, readKeyId, readRoot, type WireObject } from "./fields.ts";

export interface SenderKeyDistribution {
  channelId: string;
  keyId: number;
  /** Iteration the chain key below belongs to; receivers cannot derive earlier keys. */
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array; // Ed25519 public key that signs every group message of this key id
}

export interface SenderKeyMessage {
  keyId: number;
  iteration: number;
  ciphertext: Uint8Array;
  signature: Uint8Array;
}

const DISTRIBUTION_FIELDS = ["v", "type", "channelId", "keyId", "iteration", "chainKey", "signingKey"];
/** Distinguishes a distribution from chat content inside the same pairwise channel. */
export const SENDER_KEY_DISTRIBUTION_TYPE = "sender-key-distribution";

export function parseSenderKeyDistribution(input: unknown): SenderKeyDistribution {
  const obj = readRoot(input, 4096);
  checkVersion(obj);
  checkKnownFields(obj, DISTRIBUTION_FIELDS, "");
  if (obj["type"] !== SENDER_KEY_DISTRIBUTION_TYPE) {
    throw new WireFormatError("INVALID_FIELD_TYPE", `expected "${SENDER_KEY_DISTRIBUTION_TYPE}"`, "type");
  }
  return {
    channelId: readId(obj, "channelId", ""),
    keyId: readKeyId(obj, "keyId", ""),
    iteration: readInteger(obj, "iteration", "", 0, MAX_MESSAGE_COUNTER),
    chainKey: readBytes(obj, "chainKey", "", { exact: CHAIN_KEY_LENGTH }),
    signingKey: readBytes(obj, "signingKey", "", { exact: PUBLIC_KEY_LENGTH }),
  };
}

export function encodeSenderKeyDistribution(d: SenderKeyDistribution): WireObject {
  return {
    v: WIRE_VERSION,
    type: SENDER_KEY_DISTRIBUTION_TYPE,
    channelId: d.channelId,
    keyId: d.keyId,
    iteration: d.iteration,
    chainKey: b64(d.chainKey),
    signingKey: b64(d.signingKey),
  };
}

export function parseSenderKeyMessage(input: unknown): SenderKeyMessage {
  const obj = readRoot(input, MAX_MESSAGE_JSON_BYTES);
  checkVersion(obj);
  checkKnownFields(obj, ["v", "keyId", "iteration", "ciphertext", "signature"], "");
  return {
    keyId: readKeyId(obj, "keyId", ""),
    iteration: readInteger(obj, "iteration", "", 0, MAX_MESSAGE_COUNTER),
    ciphertext: readBytes(obj, "ciphertext", "", { min: AEAD_TAG_LENGTH, max: MAX_MESSAGE_CIPHERTEXT_BYTES }),
    signature: readBytes(obj, "signature", "", { exact: SIGNATURE_LENGTH }),
  };
}

export function encodeSenderKeyMessage(m: SenderKeyMessage): WireObject {
  return { v: WIRE_VERSION, keyId: m.keyId, iteration: m.iteration, ciphertext: b64(m.ciphertext), signature: b64(m.signature) };
}
