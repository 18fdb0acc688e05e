/**
 * Connects the WebSocket hub to the permission model, so subscriptions follow permissions live
 * (issue 6 §1). The hub stays ignorant of communities; this is the one place that knows both:
 *
 *   subscribe {channelIds}   allowed iff accessChannel() lets the user view the channel
 *                            (community channel with view_channel, or a DM they are part of)
 *   at connect               community:<id> for each community, community:<id>:moderators where
 *                            the user may review reports
 *   kicked / banned / left   the user's sockets leave the community, its moderators topic and
 *                            all its channels at once (synchronously, before the community hears
 *                            of the removal: communities' listeners run first)
 *   any other change         joined, role changes, timeouts: the hub re-asks these hooks
 *                            (recheckUser), so a demoted moderator leaves the moderators topic
 *                            and a new member hears the community
 */
import type { AppDeps } from "../../app.ts";
import { NotFoundError } from "../../errors.ts";
import type { Hub, HubActor } from "../../ws/hub.ts";
import { channelTopic, parseTopic } from "../../ws/topics.ts";
import { onMembershipChanged } from "../communities/index.ts";
import { accessChannel, accessCommunity, allows } from "../permissions/index.ts";

const REMOVALS = new Set(["left", "kicked", "banned"]);

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
      await accessChannel(db(), actorRef(actor), parsed.id, now());
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  });

  hub.setInitialTopics(async (actor) => {
    const rows = await db().selectFrom("community_members").select("community_id").where("user_id", "=", actor.userId).execute();
    const topics: string[] = [];
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
    } else {
      hub.recheckUser(change.userId);
    }
  });
}
