/**
 * Connects the WebSocket hub to the permission model, so subscriptions follow permissions live
 * (issue 6 §1). The hub stays ignorant of communities; this is the one place that knows both:
 *
 *   subscribe {channelIds}   allowed iff accessChannel() lets the user view the channel
 *                            (community channel with view_channel, or a DM they are part of) and
 *                            the user is not timed out in its community (refused: TIMED_OUT + until)
 *   at connect               `instance` (instance-wide events: announcements), community:<id> for each community, community:<id>:moderators where
 *                            the user may review reports
 *   kicked / banned / left   the user's sockets leave the community, its moderators topic and
 *                            all its channels at once (synchronously, before the community hears
 *                            of the removal: communities' listeners run first)
 *   timed out                the user's sockets leave every channel of the community at once and
 *                            get `subscription:revoked {reason: TIMED_OUT, until}`; they may follow
 *                            again at `until`, or at `member:timeout_removed` (re-checked at once).
 *                            HTTP history stays readable (a timeout stops send/react/voice).
 *   any other change         joined, role changes: the hub re-asks these hooks (recheckUser), so a
 *                            demoted moderator leaves the moderators topic, a new member hears
 *                            the community
 *   access changes           (onAccessChanged, after COMMIT, awaited) overrides, private members,
 *                            privacy, role permissions: everyone following the channel is re-asked
 *                            (recheckTopics) or just the named users; a deleted channel is dropped
 *   viewer sets              every change above that bumps viewer versions (permissions/
 *                            viewer-versions.ts), and devices added or revoked (onKeysChanged),
 *                            tells the readers' open tabs `viewers:changed` so they share their
 *                            keys before their next send (publishViewersChanged)
 */
import type { AppDeps } from "../../deps.ts";
import { NotFoundError } from "../../errors.ts";
import type { Hub, HubActor } from "../../ws/hub.ts";
import { channelTopic, INSTANCE_TOPIC, parseTopic, userTopic } from "../../ws/topics.ts";
import { onAccessChanged, onMembershipChanged, type MembershipChangeKind } from "../communities/index.ts";
import { onKeysChanged } from "../keys/index.ts";
import { accessChannel, accessCommunity, allows } from "../permissions/index.ts";

const REMOVALS = new Set(["left", "kicked", "banned"]);
/** Membership changes that change who may read the community's channels (they bump its viewer versions). */
const VIEWER_CHANGES = new Set<MembershipChangeKind>(["joined", "left", "kicked", "banned", "role_changed"]);

export const communityTopic = (communityId: string) => `community:${communityId}`;
export const moderatorsTopic = (communityId: string) => `community:${communityId}:moderators`;

export function wireRealtime(deps: AppDeps, hub: Hub): void {
  const db = () => deps.database.db;
  const now = () => new Date((deps.now ?? Date.now)());
  const actorRef = (actor: HubActor) => ({ userId: actor.userId, isOwner: actor.isOwner });

  hub.setAuthorizeSubscribe(async (actor, topic) => {
    const parsed = parseTopic(topic);
    if (parsed?.kind !== "channel") return false;
    try {
      const at = now();
      const access = await accessChannel(db(), actorRef(actor), parsed.id, at);
      const until = access.community?.subject.member?.timedOutUntil;
      if (until && until.getTime() > at.getTime()) {
        const iso = until.toISOString();
        return { code: "TIMED_OUT", reason: "TIMED_OUT", message: `You are timed out in this community until ${iso}; you can follow its channels again then.`, until: iso, communityId: access.channel.communityId ?? undefined };
      }
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  });

  hub.setInitialTopics(async (actor) => {
    const rows = await db().selectFrom("community_members").select("community_id").where("user_id", "=", actor.userId).execute();
    // Every socket hears instance-wide events (announcements); kept at every recheck since it is wanted here.
    const topics: string[] = [INSTANCE_TOPIC];
    for (const { community_id: id } of rows) {
      topics.push(communityTopic(id));
      const access = await accessCommunity(db(), actorRef(actor), id, now()).catch(() => null);
      if (access && allows(access, "review_reports")) topics.push(moderatorsTopic(id));
    }
    return topics;
  });

  onMembershipChanged(deps, (change) => {
    if (REMOVALS.has(change.kind)) {
      hub.unsubscribeUser(change.userId, [communityTopic(change.communityId), moderatorsTopic(change.communityId), ...(change.channelIds ?? []).map(channelTopic)]);
    } else if (change.kind === "timed_out") {
      // Synchronous on this instance (before the request returns), then the reason and the end.
      const channelIds = change.channelIds ?? [];
      hub.unsubscribeUser(change.userId, channelIds.map(channelTopic));
      hub.publish(userTopic(change.userId), { type: "subscription:revoked", reason: "TIMED_OUT", communityId: change.communityId, channelIds, ...(change.until ? { until: change.until } : {}) });
    } else {
      void hub.recheckUser(change.userId);
    }
  });

  // viewers:changed (docs/protocol.md): a hint to re-fetch GET /api/channels/{id}/members; the
  // send path's VIEWERS_CHANGED refusal is what guarantees freshness, this only makes it rare.
  const viewersChangedInCommunity = (communityId: string) => deps.events.publish(communityTopic(communityId), { type: "viewers:changed", communityId });
  const viewersChangedIn = (channelIds: string[]) => {
    for (const id of channelIds) deps.events.publish(channelTopic(id), { type: "viewers:changed", channelIds: [id] });
  };
  onMembershipChanged(deps, (change) => {
    // After the change's own frames and every listener (a removed user's sockets leave the
    // community topic first, whoever unsubscribes them): the removed never hear this hint.
    if (VIEWER_CHANGES.has(change.kind)) queueMicrotask(() => viewersChangedInCommunity(change.communityId));
  });
  onKeysChanged(deps, (event) => {
    void (async () => {
      const communities = await db().selectFrom("community_members").select("community_id").where("user_id", "=", event.userId).execute();
      for (const c of communities) viewersChangedInCommunity(c.community_id);
      const dms = await db()
        .selectFrom("channel_members as m")
        .innerJoin("channels as c", "c.id", "m.channel_id")
        .select("c.id")
        .where("m.user_id", "=", event.userId)
        .where("c.kind", "in", ["dm", "group_dm"])
        .execute();
      viewersChangedIn(dms.map((d) => d.id));
    })().catch((error: unknown) => deps.log.error("realtime.viewers_changed_failed", { error: error instanceof Error ? error : String(error) }));
  });

  onAccessChanged(deps, async (change) => {
    if (change.kind === "role_permissions_changed") viewersChangedInCommunity(change.communityId);
    else if (change.kind !== "channel_deleted") viewersChangedIn(change.channelIds);
    const topics = change.channelIds.map(channelTopic);
    if (change.kind === "channel_deleted") return hub.dropTopics(topics, "CHANNEL_DELETED");
    if (change.kind === "channel_settings_changed") return; // nobody's view changed (voice re-checks its seats)
    if (change.userIds) {
      await Promise.all(change.userIds.map((id) => hub.recheckUser(id)));
      return;
    }
    await hub.recheckTopics(topics);
  });
}
