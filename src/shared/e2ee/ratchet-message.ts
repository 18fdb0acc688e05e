// Pairwise (Double Ratchet) message, optionally carrying the X3DH initial-message header while the
// session is not yet confirmed by a reply. The AEAD binds `encodeRatchetHeaderBytes(header)`, a
// fixed-layout binary form, not the JSON, so re-serialising JSON can never change what is bound.

import { encodeBase64url as b64 } from "./base64url.ts";
import {
  AEAD_TAG_LENGTH,
  MAX_MESSAGE_CIPHERTEXT_BYTES,
  MAX_MESSAGE_COUNTER,
  MAX_MESSAGE_JSON_BYTES,
  PUBLIC_KEY_LENGTH,
  WIRE_VERSION,
} from "./constants.ts";
import {
  checkKnownFields,
  checkVersion,
  isPresent,
  readBytes,
  readInteger,
  readKeyId,
  readNestedObject,
  readObjectValue,
  readRoot,
  type WireObject,
} from "./fields.ts";

export interface RatchetHeader {
  /** Sender's current ratchet public key (X25519). */
  dh: Uint8Array;
  /** Number of messages in the sender's previous sending chain. */
  pn: number;
  /** Message number in the current sending chain. */
  n: number;
}

export interface X3dhHeader {
  signingKey: Uint8Array; // initiator's Ed25519 key
  identityKey: Uint8Array; // initiator's X25519 identity key
  ephemeralKey: Uint8Array;
  signedPrekeyId: number;
  oneTimePrekeyId?: number;
}

export interface RatchetMessage {
  x3dh?: X3dhHeader;
  header: RatchetHeader;
  ciphertext: Uint8Array;
}

export const RATCHET_HEADER_BYTES = PUBLIC_KEY_LENGTH + 8;

export function encodeRatchetHeaderBytes(header: RatchetHeader): Uint8Array {
  const out = new Uint8Array(RATCHET_HEADER_BYTES);
  out.set(header.dh, 0);
  const view = new DataView(out.buffer);
  view.setUint32(PUBLIC_KEY_LENGTH, header.pn);
  view.setUint32(PUBLIC_KEY_LENGTH + 4, header.n);
  return out;
}

export function readRatchetHeader(obj: WireObject, path: string): RatchetHeader {
  checkKnownFields(obj, ["dh", "pn", "n"], path);
  return {
    dh: readBytes(obj, "dh", path, { exact: PUBLIC_KEY_LENGTH }),
    pn: readInteger(obj, "pn", path, 0, MAX_MESSAGE_COUNTER),
    n: readInteger(obj, "n", path, 0, MAX_MESSAGE_COUNTER),
  };
}

export function readX3dhHeader(obj: WireObject, path: string): X3dhHeader {
  checkKnownFields(obj, ["signingKey", "identityKey", "ephemeralKey", "signedPrekeyId", "oneTimePrekeyId"], path);
  const header: X3dhHeader = {
    signingKey: readBytes(obj, "signingKey", path, { exact: PUBLIC_KEY_LENGTH }),
    identityKey: readBytes(obj, "identityKey", path, { exact: PUBLIC_KEY_LENGTH }),
    ephemeralKey: readBytes(obj, "ephemeralKey", path, { exact: PUBLIC_KEY_LENGTH }),
    signedPrekeyId: readKeyId(obj, "signedPrekeyId", path),
  };
  if (isPresent(obj, "oneTimePrekeyId")) header.oneTimePrekeyId = readKeyId(obj, "oneTimePrekeyId", path);
  return header;
}

/** Reads a ratchet message nested in another structure (envelopes). */
export function readRatchetMessageObject(obj: WireObject, path: string): RatchetMessage {
  checkVersion(obj, path);
  checkKnownFields(obj, ["v", "x3dh", "header", "ciphertext"], path);
  const p = (k: string) => (path === "" ? k : `${path}.${k}`);
  const message: RatchetMessage = {
    header: readRatchetHeader(readNestedObject(obj, "header", path), p("header")),
    ciphertext: readBytes(obj, "ciphertext", path, { min: AEAD_TAG_LENGTH, max: MAX_MESSAGE_CIPHERTEXT_BYTES }),
  };
  if (isPresent(obj, "x3dh")) message.x3dh = readX3dhHeader(readNestedObject(obj, "x3dh", path), p("x3dh"));
  return message;
}

export function parseRatchetMessage(input: unknown): RatchetMessage {
  return readRatchetMessageObject(readObjectValue(readRoot(input, MAX_MESSAGE_JSON_BYTES), ""), "");
}

export function encodeRatchetMessage(message: RatchetMessage): WireObject {
  const out: WireObject = {
    v: WIRE_VERSION,
    header: { dh: b64(message.header.dh), pn: message.header.pn, n: message.header.n },
    ciphertext: b64(message.ciphertext),
  };
  if (message.x3dh) out["x3dh"] = encodeX3dhHeader(message.x3dh);
  return out;
}

export function encodeX3dhHeader(x3dh: X3dhHeader): WireObject {
  const out: WireObject = {
    signingKey: b64(x3dh.signingKey),
    identityKey: b64(x3dh.identityKey),
    ephemeralKey: b64(x3dh.ephemeralKey),
    signedPrekeyId: x3dh.signedPrekeyId,
  };
  if (x3dh.oneTimePrekeyId !== undefined) out["oneTimePrekeyId"] = x3dh.oneTimePrekeyId;
  return out;
}
