/** Which channels a user can see: the sidebar, GET /groups, and the WebSocket subscriptions. */
import type { AppDeps } from "../../deps.ts";
import type { Executor } from "../../db/tx.ts";
import { accessCommunity, can, type ActorRef, type ChannelFacts, type ChannelRecord } from "../permissions/index.ts";
import { dbOf, nowOf, type ActorLike } from "../communities/index.ts";
import { listChannelMemberships, listGroupsWithChannels, listOverrides } from "./queries.ts";

export type SidebarGroup = { id: string; name: string; channels: (ChannelRecord & { canSend: boolean })[] };

/** The groups and the channels this actor may see, for the sidebar and GET /groups. */
export async function listVisibleGroups(deps: AppDeps, actor: ActorLike, communityId: string): Promise<SidebarGroup[]> {
  return visibleGroupsFor(dbOf(deps), actor, communityId, nowOf(deps));
}

export async function visibleGroupsFor(db: Executor, actor: ActorRef, communityId: string, now: Date): Promise<SidebarGroup[]> {
  const access = await accessCommunity(db, actor, communityId, now);
  const groups = await listGroupsWithChannels(db, communityId);
  const ids = groups.flatMap((g) => g.channels.map((c) => c.id));
  const [overrides, memberships] = await Promise.all([listOverrides(db, ids), listChannelMemberships(db, actor.userId, ids)]);
  return groups.map((g) => ({
    id: g.id,
    name: g.name,
    channels: g.channels
      .map((c) => {
        const facts: ChannelFacts = { kind: c.kind as ChannelFacts["kind"], isPrivate: c.isPrivate, readOnly: c.readOnly, archived: c.archived, isChannelMember: memberships.has(c.id), overrides: overrides.get(c.id) ?? [] };
        const ctx = { ...access.ctx, channel: facts };
        return { ...c, visible: can(access.subject, "view_channel", ctx), canSend: can(access.subject, "send_message", ctx) };
      })
      .filter((c) => c.visible)
      .map(({ visible: _v, ...c }) => c),
  }));
}

/**
 * What a user's WebSocket should subscribe to at connect time: their own topic, each community,
 * the moderators' topic where they review reports, every channel they may see, every DM.
 * Membership changes after that arrive through onMembershipChanged.
 */
export async function listSubscriptionTopics(db: Executor, actor: ActorRef, now: Date): Promise<string[]> {
  const topics = [`user:${actor.userId}`];
  const communities = await db.selectFrom("community_members").select("community_id").where("user_id", "=", actor.userId).execute();
  for (const { community_id } of communities) {
    topics.push(`community:${community_id}`);
    const access = await accessCommunity(db, actor, community_id, now);
    if (can(access.subject, "review_reports", access.ctx)) topics.push(`community:${community_id}:moderators`);
    for (const g of await visibleGroupsFor(db, actor, community_id, now)) for (const c of g.channels) topics.push(`channel:${c.id}`);
  }
  const dms = await db
    .selectFrom("channel_members as m")
    .innerJoin("channels as c", "c.id", "m.channel_id")
    .select("c.id")
    .where("m.user_id", "=", actor.userId)
    .where("c.kind", "in", ["dm", "group_dm"])
    .execute();
  for (const d of dms) topics.push(`channel:${d.id}`);
  return topics;
}

