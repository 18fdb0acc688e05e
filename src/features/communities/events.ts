/**
 * Membership-change notifications for the WebSocket hub (messaging issue). Two channels:
 *  - in-process listeners (`onMembershipChanged`), so the hub can unsubscribe a kicked, banned
 *    or timed-out user's sockets from the community and its channels at once;
 *  - events on explicit topics (`user:<id>` for the affected user, `community:<id>` for the
 *    remaining members).
 * Both happen after COMMIT, listeners FIRST: a removed user's socket is unsubscribed before the
 * community topic hears about the removal, so it never receives another event of that community.
 */
import type { AppDeps } from "../../deps.ts";
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

/**
 * Who may VIEW which channel changed for reasons other than one member's membership: a channel's
 * permission overrides, a private channel's members, a channel turning private/public or being
 * deleted, a custom role's permissions. Listeners run after COMMIT and are awaited, so the
 * request that made the change returns after this instance's sockets were re-checked (the
 * realtime feature; other instances follow through the fan-out).
 */
/** `channel_settings_changed`: archived or kind changed (who may VIEW is unchanged; who may join its call is not). */
export type AccessChangeKind = "override_changed" | "channel_members_changed" | "channel_privacy_changed" | "channel_deleted" | "role_permissions_changed" | "channel_settings_changed";

export type AccessChange = {
  communityId: string;
  kind: AccessChangeKind;
  /** The channels concerned (all of the community's for a role change). */
  channelIds: string[];
  /** When only these users are concerned (a private channel's member added or removed). */
  userIds?: string[];
};

export type AccessListener = (change: AccessChange) => void | Promise<void>;

const accessRegistries = new WeakMap<object, Set<AccessListener>>();

function accessListenersOf(deps: object): Set<AccessListener> {
  let set = accessRegistries.get(deps);
  if (!set) accessRegistries.set(deps, (set = new Set()));
  return set;
}

export function onAccessChanged(deps: AppDeps, listener: AccessListener): () => void {
  const set = accessListenersOf(deps);
  set.add(listener);
  return () => set.delete(listener);
}

/** Queues the change for after COMMIT (a rolled-back change tells nobody). */
export function queueAccessChange(deps: AppDeps, outbox: Outbox, change: AccessChange): void {
  outbox.afterCommit(async () => {
    for (const listener of accessListenersOf(deps)) {
      try {
        await listener(change);
      } catch (error) {
        deps.log.error("communities.access_listener_failed", { error: error instanceof Error ? error : String(error) });
      }
    }
  });
}
