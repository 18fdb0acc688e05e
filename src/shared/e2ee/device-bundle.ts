// Device public bundle (uploaded by a device) and prekey bundle (handed out by the server, one
// per device of the target user, with at most one one-time prekey). The server validates these
// with the same parser and checks the signed-prekey signature with `verifySignedPrekeySignature`.

import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBase64url as b64 } from "./base64url.ts";
import {
  MAX_BUNDLE_JSON_BYTES,
  MAX_DEVICES_PER_USER,
  MAX_ONE_TIME_PREKEYS_PER_UPLOAD,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  WIRE_VERSION,
} from "./constants.ts";
import { WireFormatError } from "./errors.ts";
import {
  checkKnownFields,
  checkVersion,
  isPresent,
  readArray,
  readBytes,
  readId,
  readKeyId,
  readNestedObject,
  readObjectValue,
  readRoot,
  type WireObject,
} from "./fields.ts";

export interface SignedPrekeyPublic {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}
export interface OneTimePrekeyPublic {
  id: number;
  publicKey: Uint8Array;
}
export interface DevicePublicBundle {
  deviceId: string;
  signingKey: Uint8Array; // Ed25519
  identityKey: Uint8Array; // X25519
  signedPrekey: SignedPrekeyPublic;
  oneTimePrekeys: OneTimePrekeyPublic[];
}
export interface PrekeyBundle {
  userId: string;
  deviceId: string;
  signingKey: Uint8Array;
  identityKey: Uint8Array;
  signedPrekey: SignedPrekeyPublic;
  oneTimePrekey?: OneTimePrekeyPublic;
}

const SIGNED_PREKEY_CONTEXT = new TextEncoder().encode("Hearth signed prekey v1\0");

/**
 * Bytes the Ed25519 signing key signs for a signed prekey. Besides the prekey public key it
 * binds the device's X25519 identity key and the prekey id, so nobody can pair a victim's signed
 * prekey with a different identity key or replay it under another id; the context string keeps
 * these signatures from being valid for anything else the signing key signs.
 */
export function encodeSignedPrekeySignedBytes(identityKey: Uint8Array, prekeyId: number, prekeyPublic: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNED_PREKEY_CONTEXT.length + PUBLIC_KEY_LENGTH + 4 + PUBLIC_KEY_LENGTH);
  out.set(SIGNED_PREKEY_CONTEXT, 0);
  out.set(identityKey, SIGNED_PREKEY_CONTEXT.length);
  new DataView(out.buffer).setUint32(SIGNED_PREKEY_CONTEXT.length + PUBLIC_KEY_LENGTH, prekeyId);
  out.set(prekeyPublic, SIGNED_PREKEY_CONTEXT.length + PUBLIC_KEY_LENGTH + 4);
  return out;
}

export function verifySignedPrekeySignature(bundle: {
  signingKey: Uint8Array;
  identityKey: Uint8Array;
  signedPrekey: SignedPrekeyPublic;
}): boolean {
  const message = encodeSignedPrekeySignedBytes(bundle.identityKey, bundle.signedPrekey.id, bundle.signedPrekey.publicKey);
  try {
    return ed25519.verify(bundle.signedPrekey.signature, message, bundle.signingKey);
  } catch {
    return false; // malformed point encodings are "not valid", not a crash
  }
}

/** Throws `INVALID_SIGNATURE` unless the signed prekey verifies. */
export function validateSignedPrekeySignature(bundle: Parameters<typeof verifySignedPrekeySignature>[0]): void {
  if (!verifySignedPrekeySignature(bundle)) {
    throw new WireFormatError("INVALID_SIGNATURE", "signed prekey signature does not verify", "signedPrekey.signature");
  }
}

export function readSignedPrekey(obj: WireObject, path: string): SignedPrekeyPublic {
  checkKnownFields(obj, ["id", "publicKey", "signature"], path);
  return {
    id: readKeyId(obj, "id", path),
    publicKey: readBytes(obj, "publicKey", path, { exact: PUBLIC_KEY_LENGTH }),
    signature: readBytes(obj, "signature", path, { exact: SIGNATURE_LENGTH }),
  };
}

export function readOneTimePrekey(obj: WireObject, path: string): OneTimePrekeyPublic {
  checkKnownFields(obj, ["id", "publicKey"], path);
  return { id: readKeyId(obj, "id", path), publicKey: readBytes(obj, "publicKey", path, { exact: PUBLIC_KEY_LENGTH }) };
}

const DEVICE_BUNDLE_FIELDS = ["v", "deviceId", "signingKey", "identityKey", "signedPrekey", "oneTimePrekeys"];

export function parseDevicePublicBundle(input: unknown): DevicePublicBundle {
  const obj = readRoot(input, MAX_BUNDLE_JSON_BYTES);
  checkVersion(obj);
  checkKnownFields(obj, DEVICE_BUNDLE_FIELDS, "");
  const items = readArray(obj, "oneTimePrekeys", "", MAX_ONE_TIME_PREKEYS_PER_UPLOAD);
  const seen = new Set<number>();
  const oneTimePrekeys = items.map((item, i) => {
    const path = `oneTimePrekeys.${i}`;
    const prekey = readOneTimePrekey(readObjectValue(item, path), path);
    if (seen.has(prekey.id)) throw new WireFormatError("DUPLICATE_ID", "duplicate one-time prekey id", `${path}.id`);
    seen.add(prekey.id);
    return prekey;
  });
  return {
    deviceId: readId(obj, "deviceId", ""),
    signingKey: readBytes(obj, "signingKey", "", { exact: PUBLIC_KEY_LENGTH }),
    identityKey: readBytes(obj, "identityKey", "", { exact: PUBLIC_KEY_LENGTH }),
    signedPrekey: readSignedPrekey(readNestedObject(obj, "signedPrekey", ""), "signedPrekey"),
    oneTimePrekeys,
  };
}

export function encodeDevicePublicBundle(bundle: DevicePublicBundle): WireObject {
  return {
    v: WIRE_VERSION,
    deviceId: bundle.deviceId,
    signingKey: b64(bundle.signingKey),
    identityKey: b64(bundle.identityKey),
    signedPrekey: encodeSignedPrekey(bundle.signedPrekey),
    oneTimePrekeys: bundle.oneTimePrekeys.map((p) => ({ id: p.id, publicKey: b64(p.publicKey) })),
  };
}

function encodeSignedPrekey(p: SignedPrekeyPublic): WireObject {
  return { id: p.id, publicKey: b64(p.publicKey), signature: b64(p.signature) };
}

const PREKEY_BUNDLE_FIELDS = ["v", "userId", "deviceId", "signingKey", "identityKey", "signedPrekey", "oneTimePrekey"];

export function parsePrekeyBundle(input: unknown): PrekeyBundle {
  const obj = readRoot(input, MAX_BUNDLE_JSON_BYTES);
  checkVersion(obj);
  checkKnownFields(obj, PREKEY_BUNDLE_FIELDS, "");
  const bundle: PrekeyBundle = {
    userId: readId(obj, "userId", ""),
    deviceId: readId(obj, "deviceId", ""),
    signingKey: readBytes(obj, "signingKey", "", { exact: PUBLIC_KEY_LENGTH }),
    identityKey: readBytes(obj, "identityKey", "", { exact: PUBLIC_KEY_LENGTH }),
    signedPrekey: readSignedPrekey(readNestedObject(obj, "signedPrekey", ""), "signedPrekey"),
  };
  if (isPresent(obj, "oneTimePrekey")) {
    bundle.oneTimePrekey = readOneTimePrekey(readNestedObject(obj, "oneTimePrekey", ""), "oneTimePrekey");
  }
  return bundle;
}

export function encodePrekeyBundle(bundle: PrekeyBundle): WireObject {
  const out: WireObject = {
    v: WIRE_VERSION,
    userId: bundle.userId,
    deviceId: bundle.deviceId,
    signingKey: b64(bundle.signingKey),
    identityKey: b64(bundle.identityKey),
    signedPrekey: encodeSignedPrekey(bundle.signedPrekey),
  };
  if (bundle.oneTimePrekey) out["oneTimePrekey"] = { id: bundle.oneTimePrekey.id, publicKey: b64(bundle.oneTimePrekey.publicKey) };
  return out;
}

/** The server's answer to "bundles for user X": one bundle per device, device ids unique. */
export function parsePrekeyBundleList(input: unknown): PrekeyBundle[] {
  const obj = readRoot(input, MAX_BUNDLE_JSON_BYTES * 4);
  checkVersion(obj);
  checkKnownFields(obj, ["v", "bundles"], "");
  const seen = new Set<string>();
  return readArray(obj, "bundles", "", MAX_DEVICES_PER_USER).map((item, i) => {
    const path = `bundles.${i}`;
    let bundle: PrekeyBundle;
    try {
      bundle = parsePrekeyBundle(readObjectValue(item, path));
    } catch (error) {
      // Re-anchor the field path under `bundles.i` so the error says which device was bad.
      if (error instanceof WireFormatError) throw new WireFormatError(error.code, error.message, path);
      throw error;
    }
    if (seen.has(bundle.deviceId)) throw new WireFormatError("DUPLICATE_ID", "device listed twice", `${path}.deviceId`);
    seen.add(bundle.deviceId);
    return bundle;
  });
}

export function encodePrekeyBundleList(bundles: PrekeyBundle[]): WireObject {
  return { v: WIRE_VERSION, bundles: bundles.map(encodePrekeyBundle) };
}

/**
 * Replenishing a registered device: more one-time prekeys and/or a rotated signed prekey. The
 * server verifies a new signed prekey against the device's stored keys (the upload does not
 * carry them, so it cannot swap them).
 */
export interface PrekeyUpload {
  deviceId: string;
  signedPrekey?: SignedPrekeyPublic;
  oneTimePrekeys: OneTimePrekeyPublic[];
}

export function parsePrekeyUpload(input: unknown): PrekeyUpload {
  const obj = readRoot(input, MAX_BUNDLE_JSON_BYTES);
  checkVersion(obj);
  checkKnownFields(obj, ["v", "deviceId", "signedPrekey", "oneTimePrekeys"], "");
  const seen = new Set<number>();
  const oneTimePrekeys = readArray(obj, "oneTimePrekeys", "", MAX_ONE_TIME_PREKEYS_PER_UPLOAD).map((item, i) => {
    const path = `oneTimePrekeys.${i}`;
    const prekey = readOneTimePrekey(readObjectValue(item, path), path);
    if (seen.has(prekey.id)) throw new WireFormatError("DUPLICATE_ID", "duplicate one-time prekey id", `${path}.id`);
    seen.add(prekey.id);
    return prekey;
  });
  const upload: PrekeyUpload = { deviceId: readId(obj, "deviceId", ""), oneTimePrekeys };
  if (isPresent(obj, "signedPrekey")) upload.signedPrekey = readSignedPrekey(readNestedObject(obj, "signedPrekey", ""), "signedPrekey");
  return upload;
}

export function encodePrekeyUpload(upload: PrekeyUpload): WireObject {
  const out: WireObject = {
    v: WIRE_VERSION,
    deviceId: upload.deviceId,
    oneTimePrekeys: upload.oneTimePrekeys.map((p) => ({ id: p.id, publicKey: b64(p.publicKey) })),
  };
  if (upload.signedPrekey) out["signedPrekey"] = encodeSignedPrekey(upload.signedPrekey);
  return out;
}
