/**
 * The to-device queue (docs/messages.md): pairwise key material addressed to one device. A sender
 * may address only users whose keys it may fetch (`mayFetchKeysOf`; anyone else is a 404 as in
 * the key service), from one of its own registered devices (else 400 UNKNOWN_DEVICE, as sends); ≤ 200 messages and ≤ 2 MiB per call, ≤ 5,000
 * queued per recipient device, rate-limited per sender. Acknowledged messages are deleted.
 * After COMMIT each recipient device gets one `device:message {deviceId, id}` (its newest id).
 */
import type { AppDeps } from "../../app.ts";
import { InvalidInputError, NotFoundError, RateLimitedError, AppError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { userTopic } from "../../ws/topics.ts";
import { accessOwnDevice, isDeviceRegistered, mayFetchKeysOf } from "../keys/index.ts";
import type { ActorRef } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { unknownDevice } from "./send.ts";
import { decodeCiphertext, encodeCiphertext, MAX_TO_DEVICE_BYTES_PER_CALL, MAX_TO_DEVICE_PER_CALL, MAX_TO_DEVICE_QUEUE, requireDeviceId, requireUuid, TO_DEVICE_FETCH_LIMIT } from "./schemas.ts";

/** Per sender: a burst of 30 calls, then 5 per second (a Sender Key rotation is one call). */
export const TO_DEVICE_RATE: Limit = { ratePerSec: 5, burst: 30 };
const fallbackStores = new WeakMap<object, RateLimitStore>();

function storeOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = fallbackStores.get(deps);
  if (!store) fallbackStores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

export type ToDeviceInput = { sender_device_id?: unknown; messages?: unknown };

export async function queueToDevice(deps: AppDeps, actor: ActorRef, input: ToDeviceInput): Promise<{ queued: number }> {
  const senderDevice = requireDeviceId(input.sender_device_id);
  if (!Array.isArray(input.messages) || input.messages.length === 0 || input.messages.length > MAX_TO_DEVICE_PER_CALL) {
    throw new InvalidInputError(`Send 1–${MAX_TO_DEVICE_PER_CALL} messages per call.`, { messages: "Invalid." }, "INVALID_MESSAGES");
  }
  let total = 0;
  const items = input.messages.map((raw, i) => {
    const m = (raw ?? {}) as Record<string, unknown>;
    const ciphertext = decodeCiphertext(m.ciphertext, `messages.${i}.ciphertext`);
    total += ciphertext.length;
    return { userId: requireUuid(m.user_id, "user_id"), deviceId: requireDeviceId(m.device_id, "device_id"), ciphertext };
  });
  if (total > MAX_TO_DEVICE_BYTES_PER_CALL) throw new AppError("PAYLOAD_TOO_LARGE", 413, `One call may carry at most ${MAX_TO_DEVICE_BYTES_PER_CALL / 1024 / 1024} MiB of messages.`);
  const db = dbOf(deps);
  const now = nowOf(deps);
  const taken = await storeOf(deps).take(`to-device:${actor.userId}`, TO_DEVICE_RATE, now.getTime());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs);
  for (const userId of new Set(items.map((i) => i.userId))) {
    if (!(await mayFetchKeysOf(db, actor.userId, userId))) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  }
  await mutate(deps, async (tx, outbox) => {
    // The same rule and code as a message send: one of the sender's registered (not revoked) devices.
    if (!(await isDeviceRegistered(tx, actor.userId, senderDevice))) throw unknownDevice();
    const pairs = [...new Set(items.map((i) => `${i.userId}/${i.deviceId}`))];
    const known = await tx
      .selectFrom("key_devices")
      .select(["user_id", "device_id"])
      .where("user_id", "in", [...new Set(items.map((i) => i.userId))])
      .execute();
    const knownSet = new Set(known.map((k) => `${k.user_id}/${k.device_id}`));
    const missing = pairs.find((p) => !knownSet.has(p));
    if (missing) throw new NotFoundError("No such device.", "DEVICE_NOT_FOUND");
    const queued = await tx
      .selectFrom("device_messages")
      .select(["recipient_id", "recipient_device_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("recipient_id", "in", [...new Set(items.map((i) => i.userId))])
      .groupBy(["recipient_id", "recipient_device_id"])
      .execute();
    const counts = new Map(queued.map((q) => [`${q.recipient_id}/${q.recipient_device_id}`, Number(q.n)]));
    for (const item of items) {
      const key = `${item.userId}/${item.deviceId}`;
      const n = (counts.get(key) ?? 0) + 1;
      if (n > MAX_TO_DEVICE_QUEUE) throw new AppError("QUEUE_FULL", 409, "That device has too many undelivered messages.");
      counts.set(key, n);
    }
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

export async function fetchToDevice(deps: AppDeps, actor: ActorRef, query: { device_id?: unknown; after?: unknown }) {
  const db = dbOf(deps);
  const deviceId = requireDeviceId(query.device_id, "device_id");
  await accessOwnDevice(db, actor.userId, deviceId);
  let q = db.selectFrom("device_messages").select(["id", "sender_id", "sender_device_id", "ciphertext", "created_at"]).where("recipient_id", "=", actor.userId).where("recipient_device_id", "=", deviceId);
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
