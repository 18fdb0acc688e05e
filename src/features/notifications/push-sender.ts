/**
 * Sends one push message (docs/notifications.md, docs/decisions/0008-web-push.md). The `web-push`
 * library does the protocol work: the VAPID JWT (RFC 8292, ES256) and the aes128gcm payload
 * encryption to the subscription's keys (RFC 8291); we only carry the request it builds with
 * fetch (web-push's own sender speaks https only and cannot be given a deadline per request in
 * Bun). Outcomes:
 *
 *   2xx        delivered: failures reset
 *   404, 410   the subscription is gone (RFC 8030 §7.3): the row is deleted at once
 *   other      counted; prunePushSubscriptions (jobs.ts) removes a subscription after
 *              MAX_PUSH_FAILURES consecutive failures
 */
import webpush from "web-push";
import type { AppDeps } from "../../deps.ts";
import type { Target } from "./push-subscriptions.ts";

/** Seconds a push service keeps an undelivered message (a chat alert a day late is noise). */
export const PUSH_TTL_SECS = 4 * 3600;
export const PUSH_TIMEOUT_MS = 10_000;
export const MAX_PUSH_FAILURES = 5;

export type PushOutcome = "sent" | "gone" | "failed";

export async function sendPush(deps: AppDeps, target: Target, payload: object, now: Date): Promise<PushOutcome> {
  const vapid = deps.config.vapid;
  if (!vapid) return "failed";
  const db = deps.database.db;
  let status = 0;
  try {
    const request = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, JSON.stringify(payload), {
      vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      TTL: PUSH_TTL_SECS,
      urgency: "high",
      contentEncoding: "aes128gcm",
    });
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    const response = await fetch(request.endpoint, { method: request.method, headers, body: request.body as unknown as BodyInit | null, redirect: "manual", signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
    status = response.status;
    await response.body?.cancel().catch(() => {});
  } catch (error) {
    deps.log.warn("push.send_failed", { subscriptionId: target.id, error: error instanceof Error ? error.message : String(error) });
  }
  if (status >= 200 && status < 300) {
    await db.updateTable("push_subscriptions").set({ failure_count: 0, last_success_at: now }).where("id", "=", target.id).execute();
    return "sent";
  }
  if (status === 404 || status === 410) {
    await db.deleteFrom("push_subscriptions").where("id", "=", target.id).execute();
    deps.log.info("push.subscription_gone", { subscriptionId: target.id, status });
    return "gone";
  }
  if (status !== 0) deps.log.warn("push.refused", { subscriptionId: target.id, status });
  await db
    .updateTable("push_subscriptions")
    .set((eb) => ({ failure_count: eb("failure_count", "+", 1), last_failure_at: now }))
    .where("id", "=", target.id)
    .execute();
  return "failed";
}
