/**
 * Realtime side of messaging. Subscriptions follow permissions in features/realtime (subscribe
 * check, unsubscribe on kick/ban/leave/timeout, re-check on role and access changes); timed-out
 * members keep reading history over HTTP but lose live delivery for the duration —
 * docs/messages.md "Timeouts". What lives here:
 *  - channel:activity: sidebar badges, coalesced per channel (at most one event per channel per
 *    ACTIVITY_INTERVAL_MS with the latest seq) and sent to `user:<id>` of the people who can see
 *    the channel, so a busy channel costs one recipients query per interval, not per message.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor } from "../../db/tx.ts";
import type { Hub } from "../../ws/hub.ts";
import { userTopic } from "../../ws/topics.ts";
import { dbOf } from "../communities/index.ts";

export const ACTIVITY_INTERVAL_MS = 1_000;
/** Above this many members, a public channel's activity goes to `community:<id>` once instead. */
export const ACTIVITY_PER_USER_MAX = 2_000;

type Activity = {
  pending: Map<string, number>;
  timer: Timer | undefined;
  intervalMs: number;
  perUserMax: number;
  /** The flush running now: stopActivity waits for it (its queries must end before db.destroy). */
  inFlight: Promise<void> | undefined;
  stopped: boolean;
};
const activities = new WeakMap<object, Activity>();

function activityOf(deps: AppDeps): Activity {
  let a = activities.get(deps);
  if (!a) activities.set(deps, (a = { pending: new Map(), timer: undefined, intervalMs: ACTIVITY_INTERVAL_MS, perUserMax: ACTIVITY_PER_USER_MAX, inFlight: undefined, stopped: false }));
  return a;
}

/** Tests shorten the coalescing interval. */
export function setActivityInterval(deps: AppDeps, ms: number): void {
  activityOf(deps).intervalMs = ms;
}

/** Tests lower the member count above which activity goes to `community:<id>` (ACTIVITY_PER_USER_MAX). */
export function setActivityOptions(deps: AppDeps, options: { intervalMs?: number; perUserMax?: number }): void {
  const a = activityOf(deps);
  if (options.intervalMs !== undefined) a.intervalMs = options.intervalMs;
  if (options.perUserMax !== undefined) a.perUserMax = options.perUserMax;
}

/** After COMMIT of a send: remember the channel's latest seq; flushed by the timer. */
export function noteActivity(deps: AppDeps, channelId: string, seq: number): void {
  const a = activityOf(deps);
  if (a.stopped) return; // shutting down: badges are a hint, history has the truth
  a.pending.set(channelId, Math.max(seq, a.pending.get(channelId) ?? 0));
  if (!a.timer) {
    a.timer = setTimeout(() => void flushActivity(deps), a.intervalMs);
    a.timer.unref?.();
  }
}

/**
 * Drops pending activity and its timer, refuses new activity, and resolves once a flush in
 * progress has finished (shutdown calls it before closing the database; tests before ctx.close).
 */
export async function stopActivity(deps: AppDeps): Promise<void> {
  const a = activityOf(deps);
  a.stopped = true;
  clearTimeout(a.timer);
  a.timer = undefined;
  a.pending.clear();
  while (a.inFlight) await a.inFlight;
}

export function flushActivity(deps: AppDeps): Promise<void> {
  const a = activityOf(deps);
  clearTimeout(a.timer);
  a.timer = undefined;
  // One flush at a time: a second waits for the first, then takes what accumulated meanwhile.
  const previous = a.inFlight;
  const run: Promise<void> = (async () => {
    if (previous) await previous;
    const batch = [...a.pending];
    a.pending.clear();
    for (const [channelId, seq] of batch) {
      if (a.stopped) break;
      try {
        await publishActivity(deps, channelId, seq, a.perUserMax);
      } catch (error) {
        deps.log.warn("messages.activity_failed", { channelId, error: error instanceof Error ? error.message : String(error) });
      }
    }
  })().finally(() => {
    if (a.inFlight === run) a.inFlight = undefined;
  });
  a.inFlight = run;
  return run;
}

async function publishActivity(deps: AppDeps, channelId: string, seq: number, perUserMax: number): Promise<void> {
  const db = dbOf(deps);
  const audience = await findAudience(db, channelId, perUserMax + 1);
  if (!audience) return;
  const event = { type: "channel:activity", channelId, seq };
  if (audience.communityId && !audience.restricted && audience.userIds.length > perUserMax) {
    deps.events.publish(`community:${audience.communityId}`, event);
    return;
  }
  for (const id of audience.userIds) deps.events.publish(userTopic(id), event);
}

/**
 * Who is told about a channel's activity (at most `limit` people): a DM's participants; for a
 * community channel its members, narrowed for channels that hide themselves from someone
 * (private, or any override denying view) to their explicit members and the community's
 * owner/admins: some people may miss a badge, nobody learns about a channel they cannot see.
 */
async function findAudience(db: Executor, channelId: string, limit: number): Promise<{ communityId: string | null; restricted: boolean; userIds: string[] } | null> {
  const channel = await db.selectFrom("channels").select(["id", "community_id", "is_private"]).where("id", "=", channelId).executeTakeFirst();
  if (!channel) return null;
  if (!channel.community_id) {
    const rows = await db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channelId).limit(limit).execute();
    return { communityId: null, restricted: true, userIds: rows.map((r) => r.user_id) };
  }
  const restricted = channel.is_private || (await db.selectFrom("channel_role_overrides").select("id").where("channel_id", "=", channelId).where((eb) => eb(eb.val("view_channel"), "=", eb.fn.any("deny"))).executeTakeFirst()) !== undefined;
  let q = db.selectFrom("community_members as m").select("m.user_id").where("m.community_id", "=", channel.community_id);
  if (restricted) {
    q = q.where((eb) => eb.or([eb("m.role", "in", ["owner", "admin"]), eb.exists(eb.selectFrom("channel_members as c").select("c.user_id").where("c.channel_id", "=", channelId).whereRef("c.user_id", "=", "m.user_id"))]));
  }
  const rows = await q.limit(limit).execute();
  return { communityId: channel.community_id, restricted, userIds: rows.map((r) => r.user_id) };
}

/** The people a channel's activity reaches (findAudience), at most `limit`: @here picks the online ones among them. */
export async function listAudience(db: Executor, channelId: string, limit: number): Promise<string[]> {
  return (await findAudience(db, channelId, limit))?.userIds ?? [];
}

/**
 * Installs messaging's realtime part. Who may follow which channel, and unsubscribing on kicks,
 * bans, leaves and role changes, live in features/realtime (one place for the hub and the
 * permission model); messaging only adds the coalesced channel:activity badges.
 */
export function installRealtime(deps: AppDeps, _hub: Hub): () => Promise<void> {
  activityOf(deps).stopped = false;
  return () => stopActivity(deps);
}
