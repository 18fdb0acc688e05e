/**
 * SQL of the key service. Row types stay here; the service works with domain objects.
 * Byte columns go in as Buffer (postgres.js infers bytea from it; PGlite takes any Uint8Array)
 * and come back as Buffer/Uint8Array.
 */
import { sql, type RawBuilder } from "kysely";
import type { Executor, Tx } from "../../db/tx.ts";
import type { OneTimePrekeyPublic, SignedPrekeyPublic } from "../../shared/e2ee/index.ts";

export type DeviceRow = {
  userId: string;
  deviceId: string;
  signingKey: Uint8Array;
  identityKey: Uint8Array;
  signedPrekey: SignedPrekeyPublic;
  createdAt: Date;
};

const bytes = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const DEVICE_COLUMNS = ["user_id", "device_id", "signing_key", "identity_key", "signed_prekey_id", "signed_prekey", "signed_prekey_signature", "created_at"] as const;

type RawDevice = {
  user_id: string;
  device_id: string;
  signing_key: Uint8Array;
  identity_key: Uint8Array;
  signed_prekey_id: number | string;
  signed_prekey: Uint8Array;
  signed_prekey_signature: Uint8Array;
  created_at: Date;
};

function toDevice(row: RawDevice): DeviceRow {
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    signingKey: new Uint8Array(row.signing_key),
    identityKey: new Uint8Array(row.identity_key),
    signedPrekey: { id: Number(row.signed_prekey_id), publicKey: new Uint8Array(row.signed_prekey), signature: new Uint8Array(row.signed_prekey_signature) },
    createdAt: row.created_at,
  };
}

/** Serialises key changes of one user (device limit, revocation) without a table lock. */
export async function lockUser(tx: Tx, userId: string): Promise<boolean> {
  // FOR NO KEY UPDATE: it serialises one user's registrations and revocations (they conflict with
  // each other) but not with the FOR KEY SHARE that a foreign key check takes on the users row.
  // FOR UPDATE did: a revocation holding it and waiting for a device row deadlocked with a
  // to-device call that held that device row (FOR KEY SHARE) and was inserting a row referencing
  // the user (the UTD soak's 500 on DELETE /api/keys/devices/{id}).
  const row = await tx.selectFrom("users").select("id").where("id", "=", userId).forNoKeyUpdate().executeTakeFirst();
  return row !== undefined;
}

export async function findDevice(ex: Executor, userId: string, deviceId: string, opts: { forUpdate?: boolean } = {}): Promise<DeviceRow | undefined> {
  let query = ex.selectFrom("key_devices").select(DEVICE_COLUMNS).where("user_id", "=", userId).where("device_id", "=", deviceId);
  if (opts.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? toDevice(row) : undefined;
}

/**
 * SQL condition "this user has this device registered" (a revoked device's row is deleted), to be
 * folded into another statement: the message send checks its sender_device_id inside the INSERT.
 */
export function deviceRegisteredCondition(userId: string, deviceId: string): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from key_devices where user_id = ${userId}::uuid and device_id = ${deviceId}::text)`;
}

/** The same condition over columns of another statement (SQL text; the message batch's rows). */
export function deviceRegisteredConditionOn(userColumn: string, deviceColumn: string): string {
  return `exists (select 1 from key_devices where user_id = ${userColumn} and device_id = ${deviceColumn})`;
}

export async function isDeviceRegistered(ex: Executor, userId: string, deviceId: string): Promise<boolean> {
  const row = await ex.selectFrom("key_devices").select("device_id").where("user_id", "=", userId).where("device_id", "=", deviceId).executeTakeFirst();
  return row !== undefined;
}

export async function listDevices(ex: Executor, userId: string): Promise<(DeviceRow & { oneTimePrekeysRemaining: number })[]> {
  const rows = await ex
    .selectFrom("key_devices as d")
    .select(DEVICE_COLUMNS.map((c) => `d.${c}` as const))
    .select((eb) =>
      eb
        .selectFrom("key_one_time_prekeys as p")
        .whereRef("p.user_id", "=", "d.user_id")
        .whereRef("p.device_id", "=", "d.device_id")
        .select(sql<number>`count(*)::int`.as("n"))
        .as("remaining"),
    )
    .where("d.user_id", "=", userId)
    .orderBy("d.created_at")
    .orderBy("d.device_id")
    .execute();
  return rows.map((row) => ({ ...toDevice(row), oneTimePrekeysRemaining: Number(row.remaining ?? 0) }));
}

export async function countDevices(ex: Executor, userId: string): Promise<number> {
  const row = await ex.selectFrom("key_devices").select(sql<number>`count(*)::int`.as("n")).where("user_id", "=", userId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertDevice(
  tx: Tx,
  device: { userId: string; deviceId: string; signingKey: Uint8Array; identityKey: Uint8Array; signedPrekey: SignedPrekeyPublic },
  now: Date,
): Promise<void> {
  await tx
    .insertInto("key_devices")
    .values({
      user_id: device.userId,
      device_id: device.deviceId,
      signing_key: bytes(device.signingKey),
      identity_key: bytes(device.identityKey),
      signed_prekey_id: device.signedPrekey.id,
      signed_prekey: bytes(device.signedPrekey.publicKey),
      signed_prekey_signature: bytes(device.signedPrekey.signature),
      signed_prekey_updated_at: now,
      created_at: now,
    })
    .execute();
}

export async function updateSignedPrekey(tx: Tx, userId: string, deviceId: string, prekey: SignedPrekeyPublic, now: Date): Promise<void> {
  await tx
    .updateTable("key_devices")
    .set({
      signed_prekey_id: prekey.id,
      signed_prekey: bytes(prekey.publicKey),
      signed_prekey_signature: bytes(prekey.signature),
      signed_prekey_updated_at: now,
    })
    .where("user_id", "=", userId)
    .where("device_id", "=", deviceId)
    .execute();
}

export async function deleteDevice(tx: Tx, userId: string, deviceId: string): Promise<boolean> {
  // The one-time prekeys go with it (ON DELETE CASCADE).
  const rows = await tx.deleteFrom("key_devices").where("user_id", "=", userId).where("device_id", "=", deviceId).returning("device_id").execute();
  return rows.length > 0;
}

/** Which of `ids` this device already stores (the caller refuses the upload if any). */
export async function findExistingPrekeyIds(ex: Executor, userId: string, deviceId: string, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await ex
    .selectFrom("key_one_time_prekeys")
    .select("prekey_id")
    .where("user_id", "=", userId)
    .where("device_id", "=", deviceId)
    .where("prekey_id", "in", ids)
    .execute();
  return rows.map((r) => Number(r.prekey_id));
}

export async function insertOneTimePrekeys(tx: Tx, userId: string, deviceId: string, prekeys: OneTimePrekeyPublic[], now: Date): Promise<void> {
  if (prekeys.length === 0) return;
  await tx
    .insertInto("key_one_time_prekeys")
    .values(prekeys.map((p) => ({ user_id: userId, device_id: deviceId, prekey_id: p.id, public_key: bytes(p.publicKey), created_at: now })))
    .execute();
}

export async function countOneTimePrekeys(ex: Executor, userId: string, deviceId: string): Promise<number> {
  const row = await ex
    .selectFrom("key_one_time_prekeys")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("user_id", "=", userId)
    .where("device_id", "=", deviceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Hands out one one-time prekey of a device and deletes it in the same statement. FOR UPDATE
 * SKIP LOCKED: a concurrent fetch skips a row another transaction is taking and gets the next
 * one, so under any concurrency each prekey is returned at most once (and a fetch does not come
 * back empty just because it raced another).
 */
export async function takeOneTimePrekey(tx: Tx, userId: string, deviceId: string): Promise<OneTimePrekeyPublic | undefined> {
  const result = await sql<{ prekey_id: number | string; public_key: Uint8Array }>`
    delete from key_one_time_prekeys
    where (user_id, device_id, prekey_id) = (
      select user_id, device_id, prekey_id from key_one_time_prekeys
      where user_id = ${userId} and device_id = ${deviceId}
      order by prekey_id
      limit 1
      for update skip locked
    )
    returning prekey_id, public_key`.execute(tx);
  const row = result.rows[0];
  return row ? { id: Number(row.prekey_id), publicKey: new Uint8Array(row.public_key) } : undefined;
}

export type BackupRow = { version: number; salt: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array; updatedAt: Date };

export async function findBackup(ex: Executor, userId: string): Promise<BackupRow | undefined> {
  const row = await ex.selectFrom("key_backups").select(["version", "salt", "nonce", "ciphertext", "updated_at"]).where("user_id", "=", userId).executeTakeFirst();
  if (!row) return undefined;
  return { version: Number(row.version), salt: new Uint8Array(row.salt), nonce: new Uint8Array(row.nonce), ciphertext: new Uint8Array(row.ciphertext), updatedAt: row.updated_at };
}

/**
 * Compare-and-set in ONE statement: inserts the first backup, or replaces the stored one only if
 * the new version is strictly greater. Returns false when the stored version was >= (nothing
 * written). Two concurrent uploads cannot both win, and an older client cannot overwrite a newer
 * backup.
 */
export async function storeBackupIfNewer(ex: Executor, userId: string, blob: { version: number; salt: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array }, now: Date): Promise<boolean> {
  const rows = await ex
    .insertInto("key_backups")
    .values({ user_id: userId, version: blob.version, salt: bytes(blob.salt), nonce: bytes(blob.nonce), ciphertext: bytes(blob.ciphertext), updated_at: now })
    .onConflict((oc) =>
      oc
        .column("user_id")
        .doUpdateSet((eb) => ({
          version: eb.ref("excluded.version"),
          salt: eb.ref("excluded.salt"),
          nonce: eb.ref("excluded.nonce"),
          ciphertext: eb.ref("excluded.ciphertext"),
          updated_at: eb.ref("excluded.updated_at"),
        }))
        .where("key_backups.version", "<", (eb) => eb.ref("excluded.version")),
    )
    .returning("version")
    .execute();
  return rows.length > 0;
}

export async function findBackupVersion(ex: Executor, userId: string): Promise<number | undefined> {
  const row = await ex.selectFrom("key_backups").select("version").where("user_id", "=", userId).executeTakeFirst();
  return row ? Number(row.version) : undefined;
}

const SERVER_IDENTITY_SETTING = "server_identity_key";

export type StoredServerIdentity = { publicKey: string; privateKey: string; createdAt: string };

/** Inserts the identity unless one exists (two instances booting at once agree), then reads it. */
export async function findOrCreateServerIdentity(ex: Executor, candidate: StoredServerIdentity): Promise<StoredServerIdentity> {
  await ex
    .insertInto("instance_settings")
    // Sent as text and cast by the server: postgres.js would JSON-encode a string bound to a
    // jsonb parameter a second time (a JSON *string* in the column).
    .values({ key: SERVER_IDENTITY_SETTING, value: sql<string>`cast(cast(${JSON.stringify(candidate)} as text) as jsonb)` })
    .onConflict((oc) => oc.column("key").doNothing())
    .execute();
  const row = await ex.selectFrom("instance_settings").select("value").where("key", "=", SERVER_IDENTITY_SETTING).executeTakeFirstOrThrow();
  return row.value as StoredServerIdentity;
}
