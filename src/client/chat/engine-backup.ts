// Key backup (docs/crypto.md): the message-key archive, sender keys and sessions encrypted under a
// recovery key shown once, refreshed after new keys, and restored on a new device for its history;
// and keys of this user kept in the archive so they travel with it (archivedKey).

import {
  createKeyBackup,
  decodeBase64url,
  encodeBase64url,
  encodeKeyBackupBlob,
  formatRecoveryKey,
  generateRecoveryKey,
  MessageKeyArchive,
  parseKeyBackupBlob,
  parseRecoveryKey,
  restoreKeyBackup,
} from "../e2ee/library.ts";
import { type EngineState, RECOVERY_RECORD } from "./engine-state.ts";

/**
 * A 32-byte key of this user kept in the message-key archive under `name`, so it travels in the
 * key backup to the user's other devices (bookmark notes: docs/crypto.md). `create`: make it
 * on first use.
 */
export function archivedKey(core: EngineState, name: string, create: boolean): Promise<Uint8Array | undefined> {
  return core.run(async () => {
    let key = core.archive.findMessageKey(name);
    if (!key && create) {
      core.archive.rememberMessageKey(name, (key = crypto.getRandomValues(new Uint8Array(32))));
      await core.save();
      scheduleBackup(core);
    }
    return key;
  });
}

/** Creates (or replaces) the backup; returns the recovery key to show once. */
export function createBackup(core: EngineState): Promise<string> {
  return core.run(async () => {
    const recoveryKey = generateRecoveryKey();
    await uploadBackup(core, recoveryKey);
    await core.store.put(RECOVERY_RECORD, encodeBase64url(recoveryKey));
    return formatRecoveryKey(recoveryKey);
  });
}

export function hasBackupKey(core: EngineState): Promise<boolean> {
  return core.store.get(RECOVERY_RECORD).then((v) => v !== undefined);
}

async function uploadBackup(core: EngineState, recoveryKey: Uint8Array): Promise<void> {
  let version = core.state.backupVersion;
  try {
    const current = parseKeyBackupBlob(await core.api.text("/api/keys/backup"));
    version = Math.max(version, current.version);
  } catch {
    // none yet
  }
  const sessions = [...core.sessions.values()].flat();
  const blob = createKeyBackup(recoveryKey, { createdAt: Date.now(), device: core.device, sessions, senderKeys: core.senderKeys, archive: core.archive }, version + 1);
  await core.api.call("PUT", "/api/keys/backup", encodeKeyBackupBlob(blob));
  core.state.backupVersion = version + 1;
  await core.save();
}

/** After new message keys: refresh the backup (at most every 20 s) when this device holds the recovery key. */
export function scheduleBackup(core: EngineState): void {
  if (core.backupTimer) return;
  core.backupTimer = setTimeout(() => {
    core.backupTimer = undefined;
    void core.run(async () => {
      const stored = await core.store.get(RECOVERY_RECORD);
      if (stored) await uploadBackup(core, decodeBase64url(stored)).catch(() => {});
    });
  }, 20_000);
}

/** Restores history keys from the backup: archive, received sender keys, and the old device's session ADs. */
export function restoreFromBackup(core: EngineState, recoveryKeyText: string): Promise<{ messageKeys: number }> {
  return core.run(async () => {
    const recoveryKey = parseRecoveryKey(recoveryKeyText);
    const blob = parseKeyBackupBlob(await core.api.text("/api/keys/backup"));
    const snapshot = restoreKeyBackup(recoveryKey, blob);
    const merged = MessageKeyArchive.restore(snapshot.archive.serialise());
    const mine = core.archive.serialise() as { keys: [string, string][] };
    for (const [id, k] of mine.keys) merged.rememberMessageKey(id, decodeBase64url(k));
    core.archive = merged;
    for (const [name, list] of snapshot.senderKeys.received) {
      const existing = core.senderKeys.received.get(name) ?? [];
      const ids = new Set(existing.map((k) => k.keyId));
      core.senderKeys.received.set(name, [...list.filter((k) => !ids.has(k.keyId)), ...existing]);
    }
    // The old device's own channel keys, as received keys, so its channel history opens too.
    for (const own of snapshot.senderKeys.own.values()) {
      const name = `${own.channelId}/${snapshot.device.deviceId}`;
      if (!core.senderKeys.received.has(name)) {
        core.senderKeys.received.set(name, [{ channelId: own.channelId, senderDeviceId: snapshot.device.deviceId, keyId: own.keyId, iteration: own.iteration, chainKey: own.chainKey, signingKey: own.signing.publicKey, skipped: new Map() }]);
      }
    }
    const adByPeer: Record<string, string[]> = {};
    for (const s of snapshot.sessions) (adByPeer[s.remote.deviceId] ??= []).push(encodeBase64url(s.ratchet.associatedData));
    core.state.restored = [...core.state.restored.filter((r) => r.deviceId !== snapshot.device.deviceId), { deviceId: snapshot.device.deviceId, adByPeer }];
    core.state.backupVersion = Math.max(core.state.backupVersion, blob.version);
    core.state.needsRestore = false;
    await core.store.put(RECOVERY_RECORD, encodeBase64url(recoveryKey));
    await core.save();
    return { messageKeys: snapshot.archive.size };
  });
}
