/**
 * Realtime wiring of messaging to the hub (installed once per app by installMessaging):
 *  - authorizeSubscribe: a socket may follow `channel:<id>` only if accessChannel + view_channel
 *    allow (the same rule as HTTP history);
 *  - onMembershipChanged: kicked, banned and departed users are unsubscribed from every channel
 *    of the community at once, on every instance (hub.unsubscribeUser goes through the fan-out);
 *    role changes re-check each channel of the community and unsubscribe where view is lost.
 *    Timed-out members keep READ access (they stay subscribed): a timeout stops sending,
 *    reacting and voice (issue 6), not reading — docs/messages.md "Timeouts".
 *  - channel:activity: sidebar badges, coalesced per channel (at most one event per channel per
 *    ACTIVITY_INTERVAL_MS with the latest seq) and sent to `user:<id>` of the people who can see
 *    the channel, so a busy channel costs one recipients query per interval, not per message.
 */
import type { AppDeps } from "../../app.ts";
import type { Hub, HubActor } from "../../ws/hub.ts";
import { channelTopic, parseTopic, userTopic } from "../../ws/topics.ts";
import { onMembershipChanged } from "../communities/index.ts";
import { accessChannel } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";

export const ACTIVITY_INTERVAL_MS = 1_000;
/** Above this many members, a public channel's activity goes to `community:<id>` once instead. */
export const ACTIVITY_PER_USER_MAX = 2_000;

type Activity = { pending: Map<string, number>; timer: Timer | undefined; intervalMs: number };
const activities = new WeakMap<object, Activity>();

function activityOf(deps: AppDeps): Activity {
  let a = activities.get(deps);
  if (!a) activities.set(deps, (a = { pending: new Map(), timer: undefined, intervalMs: ACTIVITY_INTERVAL_MS }));
  return a;
}

/** Tests shorten the coalescing interval. */
export function setActivityInterval(deps: AppDeps, ms: number): void {
  activityOf(deps).intervalMs = ms;
}

/** After COMMIT of a send: remember the channel's latest seq; flushed by the timer. */
export function noteActivity(deps: AppDeps, channelId: string, seq: number): void {
  const a = activityOf(deps);
  a.pending.set(channelId, Math.max(seq, a.pending.get(channelId) ?? 0));
  if (!a.timer) {
    a.timer = setTimeout(() => void flushActivity(deps), a.intervalMs);
    a.timer.unref?.();
  }
}

/** Drops pending activity and its timer (shutdown, tests). */
export function stopActivity(deps: AppDeps): void {
  const a = activityOf(deps);
  clearTimeout(a.timer);
  a.timer = undefined;
  a.pending.clear();
}

export async function flushActivity(deps: AppDeps): Promise<void> {
  const a = activityOf(deps);
  clearTimeout(a.timer);
  a.timer = undefined;
  const batch = [...a.pending];
  a.pending.clear();
  for (const [channelId, seq] of batch) {
    try {
      await publishActivity(deps, channelId, seq);
    } catch (error) {
      deps.log.warn("messages.activity_failed", { channelId, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

async function publishActivity(deps: AppDeps, channelId: string, seq: number): Promise<void> {
  const db = dbOf(deps);
  const channel = await db.selectFrom("channels").select(["id", "community_id", "is_private"]).where("id", "=", channelId).executeTakeFirst();
  if (!channel) return;
  const event = { type: "channel:activity", channelId, seq };
  let userIds: string[];
  if (!channel.community_id) {
    userIds = (await db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channelId).execute()).map((r) => r.user_id);
  } else {
    // Channels that hide themselves from someone (private, or any override denying view) are
    // announced only to their explicit members and the community's owner/admins: some people
    // may miss a badge, nobody learns about a channel they cannot see.
    const restricted = channel.is_private || (await db.selectFrom("channel_role_overrides").select("id").where("channel_id", "=", channelId).where((eb) => eb(eb.val("view_channel"), "=", eb.fn.any("deny"))).executeTakeFirst()) !== undefined;
    let q = db.selectFrom("community_members as m").select("m.user_id").where("m.community_id", "=", channel.community_id);
    if (restricted) {
      q = q.where((eb) => eb.or([eb("m.role", "in", ["owner", "admin"]), eb.exists(eb.selectFrom("channel_members as c").select("c.user_id").where("c.channel_id", "=", channelId).whereRef("c.user_id", "=", "m.user_id"))]));
    }
    const rows = await q.limit(ACTIVITY_PER_USER_MAX + 1).execute();
    if (!restricted && rows.length > ACTIVITY_PER_USER_MAX) {
      deps.events.publish(`community:${channel.community_id}`, event);
      return;
    }
    userIds = rows.map((r) => r.user_id);
  }
  for (const id of userIds) deps.events.publish(userTopic(id), event);
}

/** Installs the subscription check and the membership listener on the app's hub. */
export function installRealtime(deps: AppDeps, hub: Hub): () => void {
  hub.setAuthorizeSubscribe((actor, topic) => maySubscribe(deps, actor, topic));
  const off = onMembershipChanged(deps, (change) => {
    if (change.kind === "left" || change.kind === "kicked" || change.kind === "banned") {
      // channelIds comes from the same transaction as the removal; fall back to a lookup.
      if (change.channelIds && change.channelIds.length > 0) hub.unsubscribeUser(change.userId, change.channelIds.map(channelTopic));
      else void communityTopics(deps, change.communityId).then((topics) => hub.unsubscribeUser(change.userId, topics));
      return;
    }
    if (change.kind === "role_changed") void recheckChannels(deps, hub, change.userId, change.communityId);
  });
  return () => {
    off();
    stopActivity(deps);
    hub.setAuthorizeSubscribe(() => false);
  };
}

async function maySubscribe(deps: AppDeps, actor: HubActor, topic: string): Promise<boolean> {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.kind !== "channel") return false;
  try {
    await accessChannel(dbOf(deps), { userId: actor.userId, isOwner: actor.isOwner }, parsed.id, nowOf(deps));
    return true; // accessChannel already requires view_channel for community channels
  } catch {
    return false;
  }
}

async function communityTopics(deps: AppDeps, communityId: string): Promise<string[]> {
  const rows = await dbOf(deps).selectFrom("channels").select("id").where("community_id", "=", communityId).execute();
  return rows.map((r) => channelTopic(r.id));
}

/** After a role change: unsubscribe the user from the community's channels they no longer see. */
async function recheckChannels(deps: AppDeps, hub: Hub, userId: string, communityId: string): Promise<void> {
  try {
    const user = await dbOf(deps).selectFrom("users").select("is_owner").where("id", "=", userId).executeTakeFirst();
    const topics = await communityTopics(deps, communityId);
    const lost: string[] = [];
    for (const topic of topics) if (!(await maySubscribe(deps, { userId, sessionId: "", isAdmin: false, isOwner: user?.is_owner ?? false }, topic))) lost.push(topic);
    hub.unsubscribeUser(userId, lost);
  } catch (error) {
    deps.log.warn("messages.recheck_failed", { userId, communityId, error: error instanceof Error ? error.message : String(error) });
  }
}
