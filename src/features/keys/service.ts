/**
 * The key service: devices, prekeys, bundles, revocation and the key backup. Every mutation runs
 * in one transaction and publishes its events after COMMIT. Inputs arrive shape-checked by the
 * route schemas and are parsed again with the shared wire-format parsers (one definition of the
 * format for client and server); signatures are checked with the shared verifier.
 */
import type { AppDeps } from "../../deps.ts";
import { runInTransaction } from "../../db/tx.ts";
import { AppError, ConflictError, InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import {
  encodeKeyBackupBlob,
  encodePrekeyBundleList,
  ONE_TIME_PREKEY_BATCH_SIZE,
  ONE_TIME_PREKEY_LOW_WATERMARK,
  parseDevicePublicBundle,
  parseKeyBackupBlob,
  parsePrekeyUpload,
  validateSignedPrekeySignature,
  WireFormatError,
  type PrekeyBundle,
  encodeBase64url,
} from "../../shared/e2ee/index.ts";
import { bumpViewerVersions } from "../permissions/index.ts";
import { accessKeyOwner, accessOwnDevice } from "./access.ts";
import { queueKeysChanged, queueKeysLow } from "./events.ts";
import { keysKernelOf, type KeysKernel } from "./kernel.ts";
import * as q from "./queries.ts";

/** Devices per user. Below the wire format's bundle-list cap (MAX_DEVICES_PER_USER = 32). */
export const MAX_DEVICES = 10;
/** One-time prekeys stored per device: two batches (a client replenishes below 20). */
export const MAX_STORED_ONE_TIME_PREKEYS = 2 * ONE_TIME_PREKEY_BATCH_SIZE;

type Actor = { userId: string };

/** Runs a shared wire-format parser/verifier; its stable code becomes the 400's code. */
function wire<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof WireFormatError) {
      throw new InvalidInputError(`Invalid key material: ${error.message}.`, error.field ? { [error.field]: error.message } : undefined, error.code);
    }
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}

const ctx = (deps: AppDeps) => ({ db: deps.database.db, events: deps.events });

export type DeviceSummary = {
  deviceId: string;
  signingKey: string;
  identityKey: string;
  createdAt: string;
  /** Only in the owner's own view: how many one-time prekeys the server still holds. */
  oneTimePrekeysRemaining?: number;
};

function summarise(device: q.DeviceRow, remaining?: number): DeviceSummary {
  const out: DeviceSummary = {
    deviceId: device.deviceId,
    signingKey: encodeBase64url(device.signingKey),
    identityKey: encodeBase64url(device.identityKey),
    createdAt: device.createdAt.toISOString(),
  };
  if (remaining !== undefined) out.oneTimePrekeysRemaining = remaining;
  return out;
}

export async function registerDevice(deps: AppDeps, actor: Actor, body: unknown): Promise<DeviceSummary> {
  const kernel = keysKernelOf(deps);
  const bundle = wire(() => parseDevicePublicBundle(body));
  wire(() => validateSignedPrekeySignature(bundle));
  const now = new Date(kernel.now());
  try {
    return await runInTransaction(ctx(deps), async (tx, outbox) => {
      // Before the user lock (viewer-versions.ts "Locking"): every channel the owner can read
      // gets a new viewer version, so its senders share their keys with the new device.
      await bumpViewerVersions(tx, { userIds: [actor.userId] });
      await q.lockUser(tx, actor.userId);
      if (await q.findDevice(tx, actor.userId, bundle.deviceId)) {
        // Never replace a device's identity in place: peers pinned it (TOFU). Revoke, then register.
        throw new ConflictError("A device with this id is already registered. Revoke it first or choose a new id.", "DEVICE_EXISTS");
      }
      if ((await q.countDevices(tx, actor.userId)) >= MAX_DEVICES) {
        throw new ConflictError(`You already have ${MAX_DEVICES} devices with keys. Revoke one you no longer use.`, "TOO_MANY_DEVICES");
      }
      const device = { userId: actor.userId, deviceId: bundle.deviceId, signingKey: bundle.signingKey, identityKey: bundle.identityKey, signedPrekey: bundle.signedPrekey };
      await q.insertDevice(tx, device, now);
      await q.insertOneTimePrekeys(tx, actor.userId, bundle.deviceId, bundle.oneTimePrekeys, now);
      queueKeysChanged(kernel, outbox, { userId: actor.userId, change: "device_added", deviceId: bundle.deviceId });
      return summarise({ ...device, createdAt: now }, bundle.oneTimePrekeys.length);
    });
  } catch (error) {
    // Two registrations of one id racing: the primary key decides, the loser gets the same 409.
    if (isUniqueViolation(error)) throw new ConflictError("A device with this id is already registered.", "DEVICE_EXISTS");
    throw error;
  }
}

export async function uploadPrekeys(deps: AppDeps, actor: Actor, body: unknown): Promise<{ deviceId: string; oneTimePrekeysRemaining: number; signedPrekeyId: number }> {
  const kernel = keysKernelOf(deps);
  const upload = wire(() => parsePrekeyUpload(body));
  const now = new Date(kernel.now());
  try {
    return await runInTransaction(ctx(deps), async (tx) => {
      const device = await accessOwnDevice(tx, actor.userId, upload.deviceId, { forUpdate: true });
      let signedPrekeyId = device.signedPrekey.id;
      if (upload.signedPrekey) {
        // Verified against the keys already on record: an upload cannot swap the identity.
        wire(() => validateSignedPrekeySignature({ signingKey: device.signingKey, identityKey: device.identityKey, signedPrekey: upload.signedPrekey! }));
        if (upload.signedPrekey.id === device.signedPrekey.id) {
          throw new ConflictError("A rotated signed prekey needs a new id.", "SIGNED_PREKEY_ID_IN_USE");
        }
        await q.updateSignedPrekey(tx, actor.userId, upload.deviceId, upload.signedPrekey, now);
        signedPrekeyId = upload.signedPrekey.id;
      }
      const ids = upload.oneTimePrekeys.map((p) => p.id);
      if ((await q.findExistingPrekeyIds(tx, actor.userId, upload.deviceId, ids)).length > 0) {
        throw new ConflictError("Some one-time prekey ids are already stored; ids must be new.", "PREKEY_ID_IN_USE");
      }
      const stored = await q.countOneTimePrekeys(tx, actor.userId, upload.deviceId);
      if (stored + ids.length > MAX_STORED_ONE_TIME_PREKEYS) {
        throw new ConflictError(`A device may keep at most ${MAX_STORED_ONE_TIME_PREKEYS} one-time prekeys on the server (${stored} stored).`, "TOO_MANY_PREKEYS");
      }
      await q.insertOneTimePrekeys(tx, actor.userId, upload.deviceId, upload.oneTimePrekeys, now);
      return { deviceId: upload.deviceId, oneTimePrekeysRemaining: stored + ids.length, signedPrekeyId };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError("Some one-time prekey ids are already stored; ids must be new.", "PREKEY_ID_IN_USE");
    throw error;
  }
}

export async function listDevicesOf(deps: AppDeps, actor: Actor, ownerParam: string): Promise<{ v: 1; userId: string; devices: DeviceSummary[] }> {
  const ownerId = await accessKeyOwner(deps.database.db, actor.userId, ownerParam);
  const own = ownerId === actor.userId;
  const devices = await q.listDevices(deps.database.db, ownerId);
  return { v: 1, userId: ownerId, devices: devices.map((d) => summarise(d, own ? d.oneTimePrekeysRemaining : undefined)) };
}

async function take(kernel: KeysKernel, key: string, limit: KeysKernel["limits"]["perPair"], message: string): Promise<void> {
  const result = await kernel.store.take(key, limit, kernel.now());
  if (!result.allowed) throw new RateLimitedError(result.retryAfterSecs, message, "KEY_FETCH_RATE_LIMITED");
}

/**
 * One prekey bundle per device of the owner, each with at most one one-time prekey that is
 * deleted as it is handed out. Order of checks: the viewer's overall budget (counts every
 * attempt, also refused ones, so probing costs), then access (404, nothing consumed), then the
 * per-pair budget, then the per-device one-time-prekey budget.
 */
export async function fetchBundles(deps: AppDeps, actor: Actor, ownerParam: string): Promise<Record<string, unknown>> {
  const kernel = keysKernelOf(deps);
  const { limits } = kernel;
  await take(kernel, `keys:viewer:${actor.userId}`, limits.perViewer, "Too many key requests. Try again shortly.");
  const ownerId = await accessKeyOwner(deps.database.db, actor.userId, ownerParam);
  await take(kernel, `keys:pair:${actor.userId}:${ownerId}`, limits.perPair, "Too many key requests for this user. Try again shortly.");
  const bundles = await runInTransaction(ctx(deps), async (tx, outbox) => {
    // Listed in the transaction that takes the prekeys: a device revoked before this point is
    // not handed out (one revoked just after costs a peer one useless encryption, nothing more).
    const devices = await q.listDevices(tx, ownerId);
    const out: PrekeyBundle[] = [];
    for (const device of devices) {
      const bundle: PrekeyBundle = {
        userId: ownerId,
        deviceId: device.deviceId,
        signingKey: device.signingKey,
        identityKey: device.identityKey,
        signedPrekey: device.signedPrekey,
      };
      const budget = await kernel.store.take(`keys:otp:${ownerId}:${device.deviceId}`, limits.oneTimePrekeysPerDevice, kernel.now());
      if (budget.allowed) {
        const prekey = await q.takeOneTimePrekey(tx, ownerId, device.deviceId);
        if (prekey) bundle.oneTimePrekey = prekey;
        const remaining = await q.countOneTimePrekeys(tx, ownerId, device.deviceId);
        if (remaining < ONE_TIME_PREKEY_LOW_WATERMARK) queueKeysLow(outbox, { userId: ownerId, deviceId: device.deviceId, remaining });
      }
      out.push(bundle);
    }
    return out;
  });
  return encodePrekeyBundleList(bundles);
}

export async function revokeDevice(deps: AppDeps, actor: Actor, deviceParam: string): Promise<void> {
  const kernel = keysKernelOf(deps);
  await runInTransaction(ctx(deps), async (tx, outbox) => {
    // As for a registration: senders stop encrypting to the revoked device (and rotate).
    await bumpViewerVersions(tx, { userIds: [actor.userId] });
    await q.lockUser(tx, actor.userId);
    const device = await accessOwnDevice(tx, actor.userId, deviceParam);
    await q.deleteDevice(tx, actor.userId, device.deviceId);
    queueKeysChanged(kernel, outbox, { userId: actor.userId, change: "device_revoked", deviceId: device.deviceId });
  });
}

export async function storeBackup(deps: AppDeps, actor: Actor, body: unknown): Promise<{ version: number }> {
  const blob = wire(() => parseKeyBackupBlob(body));
  const now = new Date(keysKernelOf(deps).now());
  const stored = await q.storeBackupIfNewer(deps.database.db, actor.userId, blob, now);
  if (!stored) {
    const current = await q.findBackupVersion(deps.database.db, actor.userId);
    throw new AppError("BACKUP_VERSION_CONFLICT", 409, "A backup with the same or a newer version is already stored. Fetch it, merge, and upload a higher version.", {
      currentVersion: current,
    });
  }
  return { version: blob.version };
}

export async function loadBackup(deps: AppDeps, actor: Actor): Promise<Record<string, unknown>> {
  const backup = await q.findBackup(deps.database.db, actor.userId);
  if (!backup) throw new NotFoundError("No key backup is stored for this account.", "BACKUP_NOT_FOUND");
  return encodeKeyBackupBlob(backup);
}
