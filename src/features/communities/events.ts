/**
 * Membership-change notifications for the WebSocket hub (messaging issue). Two channels:
 *  - in-process listeners (`onMembershipChanged`), so the hub can unsubscribe a kicked, banned
 *    or timed-out user's sockets from the community and its channels at once;
 *  - events on explicit topics (`user:<id>` for the affected user, `community:<id>` for the
 *    remaining members).
 * Both happen after COMMIT, listeners FIRST: a removed user's socket is unsubscribed before the
 * community topic hears about the removal, so it never receives another event of that community.
 */
import type { AppDeps } from "../../app.ts";
import type { Outbox } from "../../db/tx.ts";

export type MembershipChangeKind = "joined" | "left" | "kicked" | "banned" | "unbanned" | "timed_out" | "timeout_removed" | "role_changed";

export type MembershipChange = {
  userId: string;
  communityId: string;
  kind: MembershipChangeKind;
  /** Channels of the community the change concerns (all of them for a removal). */
  channelIds?: string[];
  /** Timeouts: when sending becomes possible again. */
  until?: string;
  role?: string;
};

export type MembershipListener = (change: MembershipChange) => void;

const registries = new WeakMap<object, Set<MembershipListener>>();

function listenersOf(deps: object): Set<MembershipListener> {
  let set = registries.get(deps);
  if (!set) registries.set(deps, (set = new Set()));
  return set;
}

/** Subscribe to membership changes of this app; returns the unsubscribe function. */
export function onMembershipChanged(deps: AppDeps, listener: MembershipListener): () => void {
  const set = listenersOf(deps);
  set.add(listener);
  return () => set.delete(listener);
}

const REMOVALS = new Set<MembershipChangeKind>(["left", "kicked", "banned"]);

/** Queues the change for after COMMIT (a rolled-back kick tells nobody). */
export function queueMembershipChange(deps: AppDeps, outbox: Outbox, change: MembershipChange): void {
  outbox.afterCommit(() => {
    for (const listener of listenersOf(deps)) {
      try {
        listener(change);
      } catch (error) {
        deps.log.error("communities.membership_listener_failed", { error: error instanceof Error ? error : String(error) });
      }
    }
    const frame = { type: `member:${change.kind}`, community_id: change.communityId, user_id: change.userId, ...(change.until ? { until: change.until } : {}), ...(change.role ? { role: change.role } : {}) };
    deps.events.publish(`user:${change.userId}`, { ...frame, channel_ids: change.channelIds ?? [] });
    // Reasons and other moderation details stay out of the community-wide frame.
    if (change.kind !== "unbanned") deps.events.publish(`community:${change.communityId}`, frame);
    if (REMOVALS.has(change.kind)) deps.log.debug("communities.member_removed", { communityId: change.communityId, userId: change.userId, kind: change.kind });
  });
}
