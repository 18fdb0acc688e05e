/**
 * The push subscriptions job (docs/notifications.md): removes subscriptions that failed
 * MAX_PUSH_FAILURES times in a row (404/410 are deleted at once by the sender) and those of
 * sessions that were signed out or expired (they receive nothing any more). Hourly from main.ts.
 */
import type { AppDeps } from "../../deps.ts";
import { MAX_PUSH_FAILURES } from "./push-sender.ts";

export const PUSH_JOB_INTERVAL_MS = 3_600_000;

export async function prunePushSubscriptions(deps: AppDeps, now = new Date(deps.now?.() ?? Date.now())): Promise<{ failing: number; signedOut: number }> {
  const db = deps.database.db;
  const failing = await db.deleteFrom("push_subscriptions").where("failure_count", ">=", MAX_PUSH_FAILURES).executeTakeFirst();
  const signedOut = await db
    .deleteFrom("push_subscriptions")
    .where("session_id", "in", (eb) => eb.selectFrom("sessions").select("id").where((w) => w.or([w("revoked_at", "is not", null), w("expires_at", "<=", now)])))
    .executeTakeFirst();
  return { failing: Number(failing.numDeletedRows), signedOut: Number(signedOut.numDeletedRows) };
}

export function startPushJobs(deps: AppDeps, intervalMs = PUSH_JOB_INTERVAL_MS): () => Promise<void> {
  let current: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (current || stopped || !deps.config.vapid) return;
    current = (async () => {
      try {
        const done = await prunePushSubscriptions(deps);
        if (done.failing + done.signedOut > 0) deps.log.info("push.pruned", done);
      } catch (error) {
        if (!stopped) deps.log.warn("push.prune_failed", { error: error instanceof Error ? error.message : String(error) });
      } finally {
        current = undefined;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await current;
  };
}
