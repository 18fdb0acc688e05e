/**
 * Edge schemas of the key service (Elysia `t`). They reject the wrong shape and oversized fields
 * before any work is done; the shared wire-format parsers (src/shared/e2ee) then re-check every
 * field exactly as the client encodes it, and the service verifies signatures. Two layers on
 * purpose: `t` is the house's one schema language at the edge (and documents the API), the
 * shared parsers are the single definition of the wire format both sides agree on.
 */
import { t } from "elysia";
import {
  BACKUP_NONCE_LENGTH,
  BACKUP_SALT_LENGTH,
  MAX_BACKUP_CIPHERTEXT_BYTES,
  MAX_KEY_ID,
  ONE_TIME_PREKEY_BATCH_SIZE,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  WIRE_VERSION,
} from "../../shared/e2ee/index.ts";
import { DeviceId, Uuid } from "../../http/input-schemas.ts";

/** Unpadded base64url of exactly `bytes` bytes (length only; the shared decoder checks the rest). */
const base64urlOf = (bytes: number) => {
  const chars = Math.ceil((bytes * 4) / 3);
  return t.String({ pattern: "^[A-Za-z0-9_-]*$", minLength: chars, maxLength: chars });
};

const keyId = t.Integer({ minimum: 0, maximum: MAX_KEY_ID });
const deviceId = t.String({ pattern: "^[A-Za-z0-9_-]{1,64}$", minLength: 1, maxLength: 64 });

/** One upload carries at most one batch: the client generates 100 at a time (docs/crypto.md). */
export const MAX_ONE_TIME_PREKEYS_PER_REQUEST = ONE_TIME_PREKEY_BATCH_SIZE;

const signedPrekey = t.Object({ id: keyId, publicKey: base64urlOf(PUBLIC_KEY_LENGTH), signature: base64urlOf(SIGNATURE_LENGTH) });
const oneTimePrekeys = t.Array(t.Object({ id: keyId, publicKey: base64urlOf(PUBLIC_KEY_LENGTH) }), { maxItems: MAX_ONE_TIME_PREKEYS_PER_REQUEST });

export const registerDeviceBody = t.Object({
  v: t.Literal(WIRE_VERSION),
  deviceId,
  signingKey: base64urlOf(PUBLIC_KEY_LENGTH),
  identityKey: base64urlOf(PUBLIC_KEY_LENGTH),
  signedPrekey,
  oneTimePrekeys,
});

export const uploadPrekeysBody = t.Object({
  v: t.Literal(WIRE_VERSION),
  deviceId,
  signedPrekey: t.Optional(signedPrekey),
  oneTimePrekeys,
});

export const backupBody = t.Object({
  v: t.Literal(WIRE_VERSION),
  version: t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  salt: base64urlOf(BACKUP_SALT_LENGTH),
  nonce: base64urlOf(BACKUP_NONCE_LENGTH),
  ciphertext: t.String({ pattern: "^[A-Za-z0-9_-]*$", minLength: 22, maxLength: Math.ceil((MAX_BACKUP_CIPHERTEXT_BYTES * 4) / 3) }),
});

/** Path params (src/http/input-guard.ts checks them by name first: a malformed one is a 400). */
export const userIdParams = t.Object({ id: Uuid });
export const deviceIdParams = t.Object({ deviceId: DeviceId });

export const serverIdentityQuery = t.Object({ challenge: t.Optional(t.String({ maxLength: 64 })) });
