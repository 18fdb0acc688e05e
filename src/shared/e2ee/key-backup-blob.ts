// Key-backup blob as stored by the server. `version` is a monotonically increasing counter the
// server compares to refuse overwriting a newer backup with an older one; it is also bound into
// the AEAD so it cannot be edited without the recovery key noticing.

import { encodeBase64url as b64 } from "./base64url.ts";
import {
  AEAD_TAG_LENGTH,
  BACKUP_NONCE_LENGTH,
  BACKUP_SALT_LENGTH,
  MAX_BACKUP_CIPHERTEXT_BYTES,
  MAX_BACKUP_JSON_BYTES,
  MAX_BACKUP_VERSION,
  WIRE_VERSION,
} from "./constants.ts";
import { checkKnownFields, checkVersion, readBytes, readInteger, readRoot, type WireObject } from "./fields.ts";

export interface KeyBackupBlob {
  version: number;
  salt: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

export function parseKeyBackupBlob(input: unknown): KeyBackupBlob {
  const obj = readRoot(input, MAX_BACKUP_JSON_BYTES);
  checkVersion(obj);
  checkKnownFields(obj, ["v", "version", "salt", "nonce", "ciphertext"], "");
  return {
    version: readInteger(obj, "version", "", 1, MAX_BACKUP_VERSION),
    salt: readBytes(obj, "salt", "", { exact: BACKUP_SALT_LENGTH }),
    nonce: readBytes(obj, "nonce", "", { exact: BACKUP_NONCE_LENGTH }),
    ciphertext: readBytes(obj, "ciphertext", "", { min: AEAD_TAG_LENGTH, max: MAX_BACKUP_CIPHERTEXT_BYTES }),
  };
}

export function encodeKeyBackupBlob(blob: KeyBackupBlob): WireObject {
  return { v: WIRE_VERSION, version: blob.version, salt: b64(blob.salt), nonce: b64(blob.nonce), ciphertext: b64(blob.ciphertext) };
}

/** Associated data for the backup AEAD: format version ‖ backup version ‖ salt. */
export function encodeKeyBackupAssociatedData(version: number, salt: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + 8 + salt.length);
  out[0] = WIRE_VERSION;
  new DataView(out.buffer).setBigUint64(1, BigInt(version));
  out.set(salt, 9);
  return out;
}
