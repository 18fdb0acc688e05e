/**
 * The to-device queue (docs/messages.md): pairwise key material addressed to one device. A sender
 * may address only users whose keys it may fetch (`mayFetchKeysOf`; anyone else is a 404 as in
 * the key service), from one of its own registered devices (else 400 UNKNOWN_DEVICE, as sends);
 * ≤ 200 messages and ≤ 2 MiB per call. Acknowledged messages are deleted.
 *
 * Nobody can block another sender's keys: a device's queue is split into one share per sender
 * user (≤ TO_DEVICE_SHARE_MAX_MESSAGES and ≤ TO_DEVICE_SHARE_MAX_BYTES waiting for that device),
 * and a full share refuses only its own sender (409 QUEUE_FULL, naming the refused entries). A
 * sender's total waiting bytes over all devices are capped too (409 TO_DEVICE_QUOTA_EXCEEDED),
 * calls and messages are rate-limited per sender (429 RATE_LIMITED), and undelivered messages
 * expire after TO_DEVICE_TTL_MS: no longer fetched or counted, and deleted in batches by the
 * message jobs (jobs.ts expireToDeviceMessages).
 *
 * After COMMIT each recipient device gets one `device:message {deviceId, id}` (its newest id).
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import type { Executor } from "../../db/tx.ts";
import { AppError, InvalidInputError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { userTopic } from "../../ws/topics.ts";
import { accessOwnDevice, isDeviceRegistered, mayFetchKeysOf } from "../keys/index.ts";
import type { ActorRef } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { unknownDevice } from "./send.ts";
import {
  decodeCiphertext,
  encodeCiphertext,
  MAX_TO_DEVICE_BYTES_PER_CALL,
  MAX_TO_DEVICE_PER_CALL,
  requireDeviceId,
  requireUuid,
  TO_DEVICE_FETCH_LIMIT,
  TO_DEVICE_SENDER_MAX_BYTES,
  TO_DEVICE_SHARE_MAX_BYTES,
  TO_DEVICE_SHARE_MAX_MESSAGES,
  TO_DEVICE_TTL_MS,
} from "./schemas.ts";

/** Per sender: a burst of 30 calls, then 5 per second (a Sender Key rotation is one call per 200 devices). */
export const TO_DEVICE_RATE: Limit = { ratePerSec: 5, burst: 30 };
/** Per sender, counted in messages: a burst of 5,000 (a rotation to that many devices), then 50 per second. */
export const TO_DEVICE_MESSAGE_RATE: Limit = { ratePerSec: 50, burst: 5_000 };

export type ToDeviceQuotas = { shareMessages: number; shareBytes: number; senderBytes: number };
const DEFAULT_QUOTAS: ToDeviceQuotas = Object.freeze({ shareMessages: TO_DEVICE_SHARE_MAX_MESSAGES, shareBytes: TO_DEVICE_SHARE_MAX_BYTES, senderBytes: TO_DEVICE_SENDER_MAX_BYTES });
const quotaOverrides = new WeakMap<object, Partial<ToDeviceQuotas>>();

/** Tests: smaller quotas for this app (filling 64 MiB per test would only cost time). */
export function setToDeviceQuotas(deps: object, quotas: Partial<ToDeviceQuotas>): void {
  quotaOverrides.set(deps, quotas);
}

const fallbackStores = new WeakMap<object, RateLimitStore>();

function storeOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = fallbackStores.get(deps);
  if (!store) fallbackStores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

/** Rows created at or before this are expired: not fetched, not counted, swept by the jobs. */
export function toDeviceCutoff(now: Date): Date {
  return new Date(now.getTime() - TO_DEVICE_TTL_MS);
}

const MIB = 1024 * 1024;
const formatMiB = (bytes: number) => `${Math.round((bytes / MIB) * 100) / 100} MiB`;
const ttlDays = TO_DEVICE_TTL_MS / (24 * 3600 * 1000);

export type ToDeviceInput = { sender_device_id?: unknown; messages?: unknown };

type Item = { userId: string; deviceId: string; ciphertext: Uint8Array };

export async function queueToDevice(deps: AppDeps, actor: ActorRef, input: ToDeviceInput): Promise<{ queued: number }> {
  const senderDevice = requireDeviceId(input.sender_device_id);
  if (!Array.isArray(input.messages) || input.messages.length === 0 || input.messages.length > MAX_TO_DEVICE_PER_CALL) {
    throw new InvalidInputError(`Send 1–${MAX_TO_DEVICE_PER_CALL} messages per call.`, { messages: "Invalid." }, "INVALID_MESSAGES");
  }
  let total = 0;
  const items: Item[] = input.messages.map((raw, i) => {
    const m = (raw ?? {}) as Record<string, unknown>;
    const ciphertext = decodeCiphertext(m.ciphertext, `messages.${i}.ciphertext`);
    total += ciphertext.length;
    return { userId: requireUuid(m.user_id, "user_id"), deviceId: requireDeviceId(m.device_id, "device_id"), ciphertext };
  });
  if (total > MAX_TO_DEVICE_BYTES_PER_CALL) throw new AppError("PAYLOAD_TOO_LARGE", 413, `One call may carry at most ${MAX_TO_DEVICE_BYTES_PER_CALL / MIB} MiB of messages.`);
  const db = dbOf(deps);
  const now = nowOf(deps);
  const store = storeOf(deps);
  const calls = await store.take(`to-device:${actor.userId}`, TO_DEVICE_RATE, now.getTime());
  if (!calls.allowed) throw new RateLimitedError(calls.retryAfterSecs);
  const messages = await store.take(`to-device-messages:${actor.userId}`, TO_DEVICE_MESSAGE_RATE, now.getTime(), items.length);
  if (!messages.allowed) throw new RateLimitedError(messages.retryAfterSecs, `Too many key messages: at most ${TO_DEVICE_MESSAGE_RATE.ratePerSec} per second after a burst of ${TO_DEVICE_MESSAGE_RATE.burst}. Try again shortly.`);
  const userIds = [...new Set(items.map((i) => i.userId))];
  const strangers = new Set<string>();
  for (const userId of userIds) if (!(await mayFetchKeysOf(db, actor.userId, userId))) strangers.add(userId);
  if (strangers.size > 0) throw notFoundEntries("USER_NOT_FOUND", "No such user.", items, (i) => strangers.has(i.userId));
  await mutate(deps, async (tx, outbox) => {
    // The same rule and code as a message send: one of the sender's registered (not revoked) devices.
    if (!(await isDeviceRegistered(tx, actor.userId, senderDevice))) throw unknownDevice();
    // FOR KEY SHARE: a device revoked while this call runs either is gone before this read (its
    // entries get DEVICE_NOT_FOUND) or waits for this commit (and its cascade then drops what was
    // queued for it). Without the lock the revocation could land between this check and the
    // INSERT, which then failed on the foreign key as an INTERNAL_ERROR.
    const known = await tx.selectFrom("key_devices").select(["user_id", "device_id"]).where("user_id", "in", userIds).forKeyShare().execute();
    const knownSet = new Set(known.map((k) => `${k.user_id}/${k.device_id}`));
    if (items.some((i) => !knownSet.has(`${i.userId}/${i.deviceId}`))) throw notFoundEntries("DEVICE_NOT_FOUND", "No such device.", items, (i) => !knownSet.has(`${i.userId}/${i.deviceId}`));
    // One sender's calls queue behind each other here, so two concurrent calls cannot both fit
    // into the last slots of a share. Other senders never wait on this lock.
    await sql`select pg_advisory_xact_lock(hashtext(${`to-device:${actor.userId}`}))`.execute(tx);
    await checkQuotas(tx, actor.userId, items, toDeviceCutoff(now), { ...DEFAULT_QUOTAS, ...quotaOverrides.get(deps) });
    const rows = items.map((item) => ({ id: Bun.randomUUIDv7(), recipient_id: item.userId, recipient_device_id: item.deviceId, sender_id: actor.userId, sender_device_id: senderDevice, ciphertext: item.ciphertext, created_at: now }));
    await tx.insertInto("device_messages").values(rows).execute();
    const newest = new Map<string, { userId: string; deviceId: string; id: string }>();
    for (const r of rows) newest.set(`${r.recipient_id}/${r.recipient_device_id}`, { userId: r.recipient_id, deviceId: r.recipient_device_id, id: r.id });
    for (const n of newest.values()) {
      outbox.push(userTopic(n.userId), { type: "device:message", deviceId: n.deviceId, id: n.id });
    }
  });
  return { queued: items.length };
}

/**
 * A 404 naming the entries it is about (`messages.<i>`), as QUEUE_FULL does: a client sending to
 * many devices drops those (a device revoked, a reader who left since it listed them) and sends
 * the rest again, instead of losing every key in the call. Nothing was queued. The sender learns
 * nothing new: it named these users and devices itself.
 */
function notFoundEntries(code: "USER_NOT_FOUND" | "DEVICE_NOT_FOUND", message: string, items: Item[], refused: (i: Item) => boolean): AppError {
  const fields: Record<string, string> = {};
  items.forEach((item, i) => {
    if (refused(item)) fields[`messages.${i}`] = message;
  });
  return new AppError(code, 404, `${message} Nothing was queued.`, { fields });
}

/**
 * The sender's share of each addressed device, then the sender's total, with what this call
 * adds. Only this sender's own unexpired rows count: other senders' messages to the same device
 * never make this call fail, and this call's refusal never touches theirs.
 */
async function checkQuotas(tx: Executor, senderId: string, items: Item[], cutoff: Date, quotas: ToDeviceQuotas): Promise<void> {
  const usage = await tx
    .selectFrom("device_messages")
    .select(["recipient_id", "recipient_device_id", (eb) => eb.fn.countAll<string>().as("n"), (eb) => eb.fn.sum<string>("size_bytes").as("bytes")])
    .where("sender_id", "=", senderId)
    .where("recipient_id", "in", [...new Set(items.map((i) => i.userId))])
    .where("created_at", ">", cutoff)
    .groupBy(["recipient_id", "recipient_device_id"])
    .execute();
  const shares = new Map(usage.map((u) => [`${u.recipient_id}/${u.recipient_device_id}`, { n: Number(u.n), bytes: Number(u.bytes) }]));
  const refused: Record<string, string> = {};
  items.forEach((item, i) => {
    const key = `${item.userId}/${item.deviceId}`;
    const share = shares.get(key) ?? { n: 0, bytes: 0 };
    share.n += 1;
    share.bytes += item.ciphertext.length;
    shares.set(key, share);
    if (share.n > quotas.shareMessages || share.bytes > quotas.shareBytes) refused[`messages.${i}`] = "Your share of this device's queue is full.";
  });
  if (Object.keys(refused).length > 0) {
    throw new AppError(
      "QUEUE_FULL",
      409,
      `Your share of that device's queue is full: at most ${quotas.shareMessages} messages or ${formatMiB(quotas.shareBytes)} from one sender may wait for a device until it fetches them (undelivered messages expire after ${ttlDays} days). Nothing was queued.`,
      { fields: refused },
    );
  }
  const sender = await tx.selectFrom("device_messages").select((eb) => eb.fn.sum<string>("size_bytes").as("bytes")).where("sender_id", "=", senderId).where("created_at", ">", cutoff).executeTakeFirst();
  const adding = items.reduce((sum, i) => sum + i.ciphertext.length, 0);
  if (Number(sender?.bytes ?? 0) + adding > quotas.senderBytes) {
    throw new AppError(
      "TO_DEVICE_QUOTA_EXCEEDED",
      409,
      `At most ${formatMiB(quotas.senderBytes)} of your key messages may wait undelivered over all devices; they are freed as the devices fetch them, or after ${ttlDays} days. Nothing was queued.`,
    );
  }
}

export async function fetchToDevice(deps: AppDeps, actor: ActorRef, query: { device_id?: unknown; after?: unknown }) {
  const db = dbOf(deps);
  const deviceId = requireDeviceId(query.device_id, "device_id");
  await accessOwnDevice(db, actor.userId, deviceId);
  let q = db
    .selectFrom("device_messages")
    .select(["id", "sender_id", "sender_device_id", "ciphertext", "created_at"])
    .where("recipient_id", "=", actor.userId)
    .where("recipient_device_id", "=", deviceId)
    .where("created_at", ">", toDeviceCutoff(nowOf(deps)));
  if (query.after !== undefined && query.after !== "") q = q.where("id", ">", requireUuid(query.after, "after"));
  const rows = await q.orderBy("id").limit(TO_DEVICE_FETCH_LIMIT).execute();
  return rows.map((r) => ({ id: r.id, sender_id: r.sender_id, sender_device_id: r.sender_device_id, ciphertext: encodeCiphertext(r.ciphertext)!, created_at: new Date(r.created_at).toISOString() }));
}

export async function ackToDevice(deps: AppDeps, actor: ActorRef, input: { device_id?: unknown; up_to_id?: unknown }): Promise<void> {
  const deviceId = requireDeviceId(input.device_id, "device_id");
  const upTo = requireUuid(input.up_to_id, "up_to_id");
  await mutate(deps, async (tx) => {
    await accessOwnDevice(tx, actor.userId, deviceId);
    await tx.deleteFrom("device_messages").where("recipient_id", "=", actor.userId).where("recipient_device_id", "=", deviceId).where("id", "<=", upTo).execute();
  });
}
