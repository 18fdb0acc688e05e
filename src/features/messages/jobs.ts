/**
 * Background jobs of messaging. Each has a run-once function (tests call them; several instances
 * may run them at once: every step is an idempotent DELETE/UPDATE in its own transaction) and
 * startMessageJobs runs them on an interval from main.ts, returning `stop` for shutdown.
 *  - expireMessages: channel TTL — messages past expires_at are hard-deleted (`message:deleted`).
 *  - hardDeleteMessages: deleted messages (content already erased) are removed after 30 days.
 *  - processMessagePurges: a ban with "delete last N days" erases the user's messages in that
 *    community's channels (content erased as a delete, `message:deleted` per message).
 *  - expireToDeviceMessages: undelivered to-device messages older than TO_DEVICE_TTL_MS (30 days)
 *    are deleted (they are already neither fetched nor counted against quotas, to-device.ts).
 *  - deliverScheduledMessages (scheduled.ts): due scheduled messages through the send path, on
 *    its own shorter interval (SCHEDULED_INTERVAL_MS) so they go out at most 10 s late.
 */
import type { AppDeps } from "../../deps.ts";
import { channelTopic } from "../../ws/topics.ts";
import { markMessagePurgeDone, pendingMessagePurges } from "../moderation/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { eraseMessages } from "./edit-delete.ts";
import { deliverScheduledMessages } from "./scheduled.ts";
import { HARD_DELETE_AFTER_MS } from "./schemas.ts";
import { toDeviceCutoff } from "./to-device.ts";
import { timeJob } from "../../metrics/registry.ts";

const BATCH = 1000;
export const JOB_INTERVAL_MS = 60_000;
/** Scheduled messages are delivered at most this late. */
export const SCHEDULED_INTERVAL_MS = 10_000;

export async function expireMessages(deps: AppDeps, now = nowOf(deps)): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await mutate(deps, async (tx, outbox) => {
      const rows = await tx
        .deleteFrom("messages")
        .where("id", "in", (eb) => eb.selectFrom("messages").select("id").where("expires_at", "<=", now).limit(BATCH))
        .returning(["id", "channel_id", "seq"])
        .execute();
      for (const r of rows) outbox.push(channelTopic(r.channel_id), { type: "message:deleted", channelId: r.channel_id, messageId: r.id, seq: Number(r.seq) });
      return rows.length;
    });
    total += removed;
    if (removed < BATCH) return total;
  }
}

export async function hardDeleteMessages(deps: AppDeps, now = nowOf(deps)): Promise<number> {
  const cutoff = new Date(now.getTime() - HARD_DELETE_AFTER_MS);
  let total = 0;
  for (;;) {
    const removed = await mutate(deps, async (tx) => {
      const rows = await tx
        .deleteFrom("messages")
        .where("id", "in", (eb) => eb.selectFrom("messages").select("id").where("deleted_at", "<=", cutoff).limit(BATCH))
        .returning("id")
        .execute();
      return rows.length;
    });
    total += removed;
    if (removed < BATCH) return total;
  }
}

/** Deletes expired to-device messages, oldest first, BATCH rows per transaction. */
export async function expireToDeviceMessages(deps: AppDeps, now = nowOf(deps)): Promise<number> {
  const cutoff = toDeviceCutoff(now);
  let total = 0;
  for (;;) {
    const removed = await mutate(deps, async (tx) => {
      const rows = await tx
        .deleteFrom("device_messages")
        .where("id", "in", (eb) => eb.selectFrom("device_messages").select("id").where("created_at", "<=", cutoff).orderBy("created_at").limit(BATCH))
        .returning("id")
        .execute();
      return rows.length;
    });
    total += removed;
    if (removed < BATCH) return total;
  }
}

export async function processMessagePurges(deps: AppDeps, now = nowOf(deps)): Promise<number> {
  const db = dbOf(deps);
  let total = 0;
  for (const request of await pendingMessagePurges(db)) {
    const since = new Date(new Date(request.created_at).getTime() - request.days * 24 * 3600 * 1000);
    total += await mutate(deps, async (tx, outbox) => {
      const rows = await tx
        .selectFrom("messages as m")
        .innerJoin("channels as c", "c.id", "m.channel_id")
        .select(["m.id", "m.channel_id", "m.seq"])
        .where("c.community_id", "=", request.community_id)
        .where("m.sender_id", "=", request.user_id)
        .where("m.created_at", ">=", since)
        .where("m.deleted_at", "is", null)
        .execute();
      await eraseMessages(tx, rows.map((r) => r.id), now);
      for (const r of rows) outbox.push(channelTopic(r.channel_id), { type: "message:deleted", channelId: r.channel_id, messageId: r.id, seq: Number(r.seq) });
      await markMessagePurgeDone(tx, request.id, now);
      return rows.length;
    });
  }
  return total;
}

/**
 * Starts the interval (first run shortly after boot); returns `stop`, which clears the timers and
 * waits for a run in progress, so shutdown never closes the database under a job's transaction.
 */
export function startMessageJobs(deps: AppDeps, intervalMs = JOB_INTERVAL_MS): () => Promise<void> {
  let current: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (current || stopped) return;
    current = (async () => {
      try {
        await timeJob("message_jobs", async () => {
          const expired = await expireMessages(deps);
          const hard = await hardDeleteMessages(deps);
          const purged = await processMessagePurges(deps);
          const keysExpired = await expireToDeviceMessages(deps);
          if (expired + hard + purged + keysExpired > 0) deps.log.info("messages.jobs", { expired, hard_deleted: hard, purged, to_device_expired: keysExpired });
        });
      } catch (error) {
        if (!stopped) deps.log.warn("messages.jobs_failed", { error: error instanceof Error ? error.message : String(error) });
      } finally {
        current = undefined;
      }
    })();
  };
  let currentScheduled: Promise<void> | undefined;
  const tickScheduled = () => {
    if (currentScheduled || stopped) return;
    currentScheduled = (async () => {
      try {
        const { sent, failed } = await timeJob("scheduled_messages", () => deliverScheduledMessages(deps));
        if (sent + failed > 0) deps.log.info("messages.scheduled", { sent, failed });
      } catch (error) {
        if (!stopped) deps.log.warn("messages.scheduled_failed", { error: error instanceof Error ? error.message : String(error) });
      } finally {
        currentScheduled = undefined;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  const first = setTimeout(tick, Math.min(5_000, intervalMs));
  first.unref?.();
  const scheduledTimer = setInterval(tickScheduled, Math.min(SCHEDULED_INTERVAL_MS, intervalMs));
  scheduledTimer.unref?.();
  return async () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(first);
    clearInterval(scheduledTimer);
    await Promise.all([current, currentScheduled]);
  };
}
