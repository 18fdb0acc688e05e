/**
 * Push subscriptions (docs/notifications.md "Web push"): one row per browser subscription, owned
 * by the session (device) that created it. Only pushes to subscriptions of live sessions are sent;
 * signing a device out ends its pushes, deleting the session deletes the row.
 */
import type { Executor } from "../../db/tx.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { isUuid } from "../../shared/ids.ts";

export type SubscriptionInput = { endpoint: string; keys: { p256dh: string; auth: string } };
export type SubscriptionView = { id: string; endpoint_origin: string; created_at: string; last_success_at: string | null; this_device: boolean };
export type Target = { id: string; userId: string; endpoint: string; p256dh: string; auth: string };

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
const IP_LITERAL = /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\])$/i;

/**
 * The server POSTs to this URL, so it is checked like any outbound target: https to a host name
 * (no IP literals: a push service is a named host; that keeps a subscription from aiming the
 * server at an internal address by number). Outside production, http to loopback is allowed for
 * a local push service (the tests run one).
 */
export function checkEndpoint(raw: string, production: boolean): URL {
  const url = URL.parse(raw);
  const bad = () => new InvalidInputError("The push endpoint must be an https:// URL of a push service.", { endpoint: "Not a push service URL." }, "INVALID_PUSH_ENDPOINT");
  if (!url || url.username || url.password || url.hash) throw bad();
  if (url.protocol === "https:" && !IP_LITERAL.test(url.hostname)) return url;
  if (!production && url.protocol === "http:" && LOOPBACK.test(url.hostname)) return url;
  if (!production && url.protocol === "https:" && LOOPBACK.test(url.hostname)) return url;
  throw bad();
}

/** Saves the subscription for this session; the same endpoint again (a re-subscribe, another account in this browser) moves to it. */
export async function saveSubscription(db: Executor, userId: string, sessionId: string, input: SubscriptionInput, now: Date): Promise<{ id: string; created: boolean }> {
  const existing = await db.selectFrom("push_subscriptions").select(["id", "user_id", "session_id"]).where("endpoint", "=", input.endpoint).executeTakeFirst();
  const unpad = (key: string) => key.replace(/=+$/, "");
  const values = { user_id: userId, session_id: sessionId, p256dh: unpad(input.keys.p256dh), auth: unpad(input.keys.auth), failure_count: 0, last_failure_at: null };
  if (existing) {
    await db.updateTable("push_subscriptions").set(values).where("id", "=", existing.id).execute();
    return { id: existing.id, created: existing.user_id !== userId || existing.session_id !== sessionId };
  }
  const id = Bun.randomUUIDv7();
  await db
    .insertInto("push_subscriptions")
    .values({ id, endpoint: input.endpoint, created_at: now, ...values })
    .onConflict((oc) => oc.column("endpoint").doUpdateSet(values))
    .execute();
  return { id, created: true };
}

export async function listSubscriptions(db: Executor, userId: string, sessionId: string): Promise<SubscriptionView[]> {
  const rows = await db.selectFrom("push_subscriptions").select(["id", "endpoint", "session_id", "created_at", "last_success_at"]).where("user_id", "=", userId).orderBy("created_at").execute();
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return rows.map((r) => ({ id: r.id, endpoint_origin: new URL(r.endpoint).origin, created_at: iso(r.created_at)!, last_success_at: iso(r.last_success_at), this_device: r.session_id === sessionId }));
}

/** Another user's id reads as an unknown one (404). */
export async function deleteSubscription(db: Executor, userId: string, id: string): Promise<void> {
  const result = isUuid(id) ? await db.deleteFrom("push_subscriptions").where("id", "=", id.toLowerCase()).where("user_id", "=", userId).executeTakeFirst() : undefined;
  if (!result || Number(result.numDeletedRows) === 0) throw new NotFoundError("No such push subscription.", "PUSH_SUBSCRIPTION_NOT_FOUND");
}

/** Subscriptions of these users' live sessions (signed-out or expired devices get nothing). */
export async function listTargets(db: Executor, userIds: readonly string[], now: Date): Promise<Target[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .selectFrom("push_subscriptions as p")
    .innerJoin("sessions as s", "s.id", "p.session_id")
    .select(["p.id", "p.user_id", "p.endpoint", "p.p256dh", "p.auth"])
    .where("p.user_id", "in", [...userIds])
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", now)
    .execute();
  return rows.map((r) => ({ id: r.id, userId: r.user_id, endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth }));
}

/** Of these users, those with at least one live subscription. */
export async function usersWithTargets(db: Executor, userIds: readonly string[], now: Date): Promise<string[]> {
  return [...new Set((await listTargets(db, userIds, now)).map((t) => t.userId))];
}
