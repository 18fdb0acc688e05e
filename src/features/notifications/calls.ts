/**
 * A DM or group DM call ringing someone with no open tab (issue 14 §6): one push per live
 * subscription, "Incoming call from Alice", whose click opens the conversation. People with a tab
 * open are rung there (`voice:ring` on their user topic); they get no push. The same rule as
 * messages decides (settings.ts): a ring is addressed to the callee like a mention, so "all" and
 * "mentions" let it through, "nothing", a mute or do-not-disturb silence it.
 *
 * The payload names who and where (ids, the caller's display name, the group's name): nothing of
 * the call itself (no SDP, no keys, no TURN credentials).
 */
import type { AppDeps } from "../../deps.ts";
import { splitByPresence, track } from "./dispatch.ts";
import { listTargets, usersWithTargets } from "./push-subscriptions.ts";
import { sendPush } from "./push-sender.ts";
import { usersToNotify } from "./settings.ts";

export type CallPushPayload = {
  v: 1;
  type: "call";
  channel_id: string;
  kind: "dm" | "group_dm";
  sender_id: string;
  sender_name: string | null;
  /** The group DM's name when it has one; null for a DM. */
  channel_name: string | null;
  /** When the ring stops (the service worker drops the notification's urgency after it). */
  expires_at: string;
  url: string;
};

export type Ring = { channelId: string; callerId: string; calleeIds: readonly string[]; expiresAt: Date };

/** Pushes the ring to callees with no open socket. Returns the pushes sent. */
export async function pushRing(deps: AppDeps, ring: Ring): Promise<number> {
  if (!deps.config.vapid || ring.calleeIds.length === 0) return 0;
  const db = deps.database.db;
  const now = new Date(deps.now?.() ?? Date.now());
  const { offline } = await splitByPresence(deps, ring.calleeIds);
  const reachable = await usersWithTargets(db, offline, now);
  if (reachable.length === 0) return 0;
  const wanted = await usersToNotify(deps, reachable, { kind: "call", channelId: ring.channelId, communityId: null, dm: true }, reachable, now);
  if (wanted.length === 0) return 0;
  const [channel, caller] = await Promise.all([
    db.selectFrom("channels").select(["kind", "name"]).where("id", "=", ring.channelId).executeTakeFirst(),
    db.selectFrom("users").select("display_name").where("id", "=", ring.callerId).executeTakeFirst(),
  ]);
  if (!channel || (channel.kind !== "dm" && channel.kind !== "group_dm")) return 0;
  const payload: CallPushPayload = {
    v: 1,
    type: "call",
    channel_id: ring.channelId,
    kind: channel.kind,
    sender_id: ring.callerId,
    sender_name: caller?.display_name ?? null,
    channel_name: channel.kind === "dm" ? null : channel.name,
    expires_at: ring.expiresAt.toISOString(),
    url: `/dms/${ring.channelId}`,
  };
  const outcomes = await Promise.all((await listTargets(db, wanted, now)).map((target) => sendPush(deps, target, payload, now)));
  return outcomes.filter((o) => o === "sent").length;
}

/** In the background (the ring answer never waits for a push service); tests wait with pushSettled. */
export function notifyRing(deps: AppDeps, ring: Ring): void {
  if (!deps.config.vapid) return;
  track(
    deps,
    pushRing(deps, ring).catch((error: unknown) => deps.log.warn("push.ring_failed", { error: error instanceof Error ? error.message : String(error) })),
  );
}
