// Encrypted key backup. The backup key is HKDF-SHA256(recovery key, fresh salt, versioned info),
// so every backup uses a different key; the blob's format version, backup `version` and salt are
// AEAD associated data. The plaintext is a versioned snapshot of everything needed to read
// history on a new device: device private keys, pairwise sessions, sender keys and archived
// message keys. The server stores the blob and refuses to overwrite a higher `version`; the
// client refuses to restore a blob older than one it already knew (rollback).

import { BACKUP_NONCE_LENGTH, BACKUP_SALT_LENGTH, MAX_BACKUP_CIPHERTEXT_BYTES } from "../../shared/e2ee/constants.ts";
import { encodeKeyBackupAssociatedData, type KeyBackupBlob } from "../../shared/e2ee/key-backup-blob.ts";
import { decodeUtf8, encodeUtf8, randomBytes } from "./bytes.ts";
import { checkStateVersion, readStateArray, readStateInteger, readStateObject } from "./codec.ts";
import { restoreDeviceIdentity, serialiseDeviceIdentity, type DeviceIdentity } from "./device-identity.ts";
import { E2eeError } from "./errors.ts";
import { MessageKeyArchive } from "./message-key-archive.ts";
import { restorePairwiseSession, serialisePairwiseSession } from "./pairwise-session.ts";
import { deriveHkdf, openXChaCha, sealXChaCha } from "./primitives.ts";
import { RECOVERY_KEY_LENGTH } from "./recovery-key.ts";
import { restoreSenderKeyStore, SenderKeyStore, serialiseSenderKeyStore } from "./sender-key-store.ts";
import type { PairwiseSession } from "./x3dh.ts";

const BACKUP_INFO = encodeUtf8("Hearth key backup v1");
const SNAPSHOT_VERSION = 1;

export interface BackupSnapshot {
  createdAt: number;
  device: DeviceIdentity;
  sessions: PairwiseSession[];
  senderKeys: SenderKeyStore;
  archive: MessageKeyArchive;
}

function deriveBackupKey(recoveryKey: Uint8Array, salt: Uint8Array): Uint8Array {
  if (recoveryKey.length !== RECOVERY_KEY_LENGTH) throw new E2eeError("INVALID_RECOVERY_KEY", "recovery key must be 32 bytes");
  return deriveHkdf(recoveryKey, salt, BACKUP_INFO, 32);
}

export function serialiseBackupSnapshot(snapshot: BackupSnapshot): Record<string, unknown> {
  return {
    v: SNAPSHOT_VERSION,
    createdAt: snapshot.createdAt,
    device: serialiseDeviceIdentity(snapshot.device),
    sessions: snapshot.sessions.map(serialisePairwiseSession),
    senderKeys: serialiseSenderKeyStore(snapshot.senderKeys),
    archive: snapshot.archive.serialise(),
  };
}

export function restoreBackupSnapshot(value: unknown): BackupSnapshot {
  const o = readStateObject(value, "snapshot");
  checkStateVersion(o, SNAPSHOT_VERSION, "snapshot");
  return {
    createdAt: readStateInteger(o["createdAt"], "snapshot.createdAt"),
    device: restoreDeviceIdentity(o["device"]),
    sessions: readStateArray(o["sessions"], "snapshot.sessions").map(restorePairwiseSession),
    senderKeys: restoreSenderKeyStore(o["senderKeys"]),
    archive: MessageKeyArchive.restore(o["archive"]),
  };
}

/** `version` must be higher than the version of the backup currently on the server. */
export function createKeyBackup(recoveryKey: Uint8Array, snapshot: BackupSnapshot, version: number): KeyBackupBlob {
  if (!Number.isSafeInteger(version) || version < 1) throw new E2eeError("INVALID_STATE", "backup version must be a positive integer");
  const salt = randomBytes(BACKUP_SALT_LENGTH);
  const nonce = randomBytes(BACKUP_NONCE_LENGTH);
  const plaintext = encodeUtf8(JSON.stringify(serialiseBackupSnapshot(snapshot)));
  const ciphertext = sealXChaCha(deriveBackupKey(recoveryKey, salt), nonce, plaintext, encodeKeyBackupAssociatedData(version, salt));
  if (ciphertext.length > MAX_BACKUP_CIPHERTEXT_BYTES) throw new E2eeError("OVERSIZED", "backup larger than the server accepts");
  return { version, salt, nonce, ciphertext };
}

/**
 * Decrypts a backup. A wrong recovery key or any change to the blob (including its version
 * number) fails with DECRYPT_FAILED; a blob older than `lastKnownVersion` is refused.
 */
export function restoreKeyBackup(recoveryKey: Uint8Array, blob: KeyBackupBlob, options: { lastKnownVersion?: number } = {}): BackupSnapshot {
  if (options.lastKnownVersion !== undefined && blob.version < options.lastKnownVersion) {
    throw new E2eeError("INVALID_STATE", "backup is older than one this device has seen");
  }
  const key = deriveBackupKey(recoveryKey, blob.salt);
  const plaintext = openXChaCha(key, blob.nonce, blob.ciphertext, encodeKeyBackupAssociatedData(blob.version, blob.salt));
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(plaintext));
  } catch {
    throw new E2eeError("INVALID_STATE", "backup plaintext is not a snapshot");
  }
  return restoreBackupSnapshot(parsed);
}
