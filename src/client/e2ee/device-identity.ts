// A device's long-term keys: an Ed25519 signing key and an X25519 identity DH key (separate keys,
// so we never need the Ed25519->X25519 conversion), a signed prekey rotated weekly, and a pool of
// one-time prekeys. Private keys never leave the device except inside the encrypted key backup.

import {
  encodeSignedPrekeySignedBytes,
  type DevicePublicBundle,
  type OneTimePrekeyPublic,
} from "../../shared/e2ee/device-bundle.ts";
import { MAX_KEY_ID, ONE_TIME_PREKEY_BATCH_SIZE, ONE_TIME_PREKEY_LOW_WATERMARK } from "../../shared/e2ee/constants.ts";
import { validateId } from "../../shared/e2ee/fields.ts";
import { concatBytes } from "./bytes.ts";
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
import { generateDhKeyPair, generateSigningKeyPair, signBytes, type KeyPair } from "./primitives.ts";

export const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 60 * 60 * 1000;

export interface SignedPrekey {
  id: number;
  keyPair: KeyPair;
  signature: Uint8Array;
  createdAt: number;
}

export interface DeviceIdentity {
  userId: string;
  deviceId: string;
  signing: KeyPair;
  identity: KeyPair;
  signedPrekey: SignedPrekey;
  /** Kept after a rotation so X3DH messages in flight to the old prekey still work. */
  previousSignedPrekey: SignedPrekey | null;
  /** Private halves of one-time prekeys not yet used, by id. */
  oneTimePrekeys: Map<number, KeyPair>;
  nextOneTimePrekeyId: number;
}

/** The 64 bytes that identify a device in AD and safety numbers: Ed25519 key ‖ X25519 key. */
export function encodeIdentityKeyBytes(keys: { signingKey: Uint8Array; identityKey: Uint8Array }): Uint8Array {
  return concatBytes(keys.signingKey, keys.identityKey);
}

export function getDeviceIdentityKeyBytes(device: DeviceIdentity): Uint8Array {
  return encodeIdentityKeyBytes({ signingKey: device.signing.publicKey, identityKey: device.identity.publicKey });
}

function createSignedPrekey(signing: KeyPair, identityPublic: Uint8Array, id: number, now: number): SignedPrekey {
  const keyPair = generateDhKeyPair();
  const signature = signBytes(signing.privateKey, encodeSignedPrekeySignedBytes(identityPublic, id, keyPair.publicKey));
  return { id, keyPair, signature, createdAt: now };
}

/** New device identity with a signed prekey and the first batch of one-time prekeys. */
export function createDeviceIdentity(options: { userId: string; deviceId: string; now: number }): DeviceIdentity {
  validateId(options.userId, "userId");
  validateId(options.deviceId, "deviceId");
  const signing = generateSigningKeyPair();
  const identity = generateDhKeyPair();
  const device: DeviceIdentity = {
    userId: options.userId,
    deviceId: options.deviceId,
    signing,
    identity,
    signedPrekey: createSignedPrekey(signing, identity.publicKey, 1, options.now),
    previousSignedPrekey: null,
    oneTimePrekeys: new Map(),
    nextOneTimePrekeyId: 1,
  };
  generateOneTimePrekeys(device, ONE_TIME_PREKEY_BATCH_SIZE);
  return device;
}

export function shouldRotateSignedPrekey(device: DeviceIdentity, now: number): boolean {
  return now - device.signedPrekey.createdAt >= SIGNED_PREKEY_ROTATION_MS;
}

export function rotateSignedPrekey(device: DeviceIdentity, now: number): SignedPrekey {
  const nextId = device.signedPrekey.id >= MAX_KEY_ID ? 1 : device.signedPrekey.id + 1;
  device.previousSignedPrekey = device.signedPrekey;
  device.signedPrekey = createSignedPrekey(device.signing, device.identity.publicKey, nextId, now);
  return device.signedPrekey;
}

export function findSignedPrekey(device: DeviceIdentity, id: number): SignedPrekey | undefined {
  if (device.signedPrekey.id === id) return device.signedPrekey;
  if (device.previousSignedPrekey?.id === id) return device.previousSignedPrekey;
  return undefined;
}

/** How many one-time prekeys to generate given how many the server still holds: a batch or none. */
export function countOneTimePrekeysToGenerate(remainingOnServer: number): number {
  return remainingOnServer < ONE_TIME_PREKEY_LOW_WATERMARK ? ONE_TIME_PREKEY_BATCH_SIZE : 0;
}

/** Generates `count` one-time prekeys, keeps the private halves, returns the public halves to upload. */
export function generateOneTimePrekeys(device: DeviceIdentity, count: number): OneTimePrekeyPublic[] {
  const out: OneTimePrekeyPublic[] = [];
  for (let i = 0; i < count; i++) {
    const id = device.nextOneTimePrekeyId;
    device.nextOneTimePrekeyId = id >= MAX_KEY_ID ? 1 : id + 1;
    const keyPair = generateDhKeyPair();
    device.oneTimePrekeys.set(id, keyPair);
    out.push({ id, publicKey: keyPair.publicKey });
  }
  return out;
}

/** Public bundle to upload; pass the one-time prekeys just generated (or all unused ones). */
export function exportDevicePublicBundle(device: DeviceIdentity, oneTimePrekeys?: OneTimePrekeyPublic[]): DevicePublicBundle {
  return {
    deviceId: device.deviceId,
    signingKey: device.signing.publicKey,
    identityKey: device.identity.publicKey,
    signedPrekey: { id: device.signedPrekey.id, publicKey: device.signedPrekey.keyPair.publicKey, signature: device.signedPrekey.signature },
    oneTimePrekeys:
      oneTimePrekeys ?? [...device.oneTimePrekeys].map(([id, keyPair]) => ({ id, publicKey: keyPair.publicKey })),
  };
}

// ---- serialisation -------------------------------------------------------------------------

const STATE_VERSION = 1;

function encodeKeyPair(k: KeyPair): [string, string] {
  return [toB64(k.publicKey), toB64(k.privateKey)];
}
function decodeKeyPair(value: unknown, what: string): KeyPair {
  const arr = readStateArray(value, what);
  return { publicKey: fromB64(arr[0], 32, `${what}.public`), privateKey: fromB64(arr[1], 32, `${what}.private`) };
}
function encodeSignedPrekey(p: SignedPrekey): Record<string, unknown> {
  return { id: p.id, keyPair: encodeKeyPair(p.keyPair), signature: toB64(p.signature), createdAt: p.createdAt };
}
function decodeSignedPrekey(value: unknown, what: string): SignedPrekey {
  const o = readStateObject(value, what);
  return {
    id: readStateInteger(o["id"], `${what}.id`),
    keyPair: decodeKeyPair(o["keyPair"], `${what}.keyPair`),
    signature: fromB64(o["signature"], 64, `${what}.signature`),
    createdAt: readStateInteger(o["createdAt"], `${what}.createdAt`),
  };
}

export function serialiseDeviceIdentity(device: DeviceIdentity): Record<string, unknown> {
  return {
    v: STATE_VERSION,
    userId: device.userId,
    deviceId: device.deviceId,
    signing: encodeKeyPair(device.signing),
    identity: encodeKeyPair(device.identity),
    signedPrekey: encodeSignedPrekey(device.signedPrekey),
    previousSignedPrekey: device.previousSignedPrekey ? encodeSignedPrekey(device.previousSignedPrekey) : null,
    oneTimePrekeys: [...device.oneTimePrekeys].map(([id, k]) => [id, ...encodeKeyPair(k)]),
    nextOneTimePrekeyId: device.nextOneTimePrekeyId,
  };
}

export function restoreDeviceIdentity(value: unknown): DeviceIdentity {
  const o = readStateObject(value, "device");
  checkStateVersion(o, STATE_VERSION, "device");
  const oneTimePrekeys = new Map<number, KeyPair>();
  for (const entry of readStateArray(o["oneTimePrekeys"], "device.oneTimePrekeys")) {
    const e = readStateArray(entry, "device.oneTimePrekeys[]");
    oneTimePrekeys.set(readStateInteger(e[0], "oneTimePrekey.id"), decodeKeyPair(e.slice(1), "oneTimePrekey"));
  }
  const device: DeviceIdentity = {
    userId: readStateString(o["userId"], "device.userId"),
    deviceId: readStateString(o["deviceId"], "device.deviceId"),
    signing: decodeKeyPair(o["signing"], "device.signing"),
    identity: decodeKeyPair(o["identity"], "device.identity"),
    signedPrekey: decodeSignedPrekey(o["signedPrekey"], "device.signedPrekey"),
    previousSignedPrekey:
      o["previousSignedPrekey"] === null ? null : decodeSignedPrekey(o["previousSignedPrekey"], "device.previousSignedPrekey"),
    oneTimePrekeys,
    nextOneTimePrekeyId: readStateInteger(o["nextOneTimePrekeyId"], "device.nextOneTimePrekeyId"),
  };
  if (device.nextOneTimePrekeyId < 1) throw new E2eeError("INVALID_STATE", "device.nextOneTimePrekeyId");
  return device;
}
