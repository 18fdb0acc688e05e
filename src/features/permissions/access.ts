/**
 * Authorization by fetching (DESIGN rule 3): every id from a client goes through one of these.
 * They return the row plus the loaded subject, or throw NotFound, also when the thing exists but
 * is not the actor's to see. Once visible, a missing permission is a 403 (`requireCan`).
 */
import { ForbiddenError, NotFoundError } from "../../errors.ts";
import type { Executor } from "../../db/tx.ts";
import { can, type Action, type ChannelFacts, type PermissionContext, type Subject } from "./model.ts";
import { findCommunity, findMembership, loadChannelAccess, policyContext, type ChannelRecord, type CommunityRecord } from "./load.ts";

export type ActorRef = { userId: string; isOwner: boolean };

/** Malformed ids are "not found" too (and never reach the uuid cast in SQL). */
import { isUuid } from "../../shared/ids.ts";
export { isUuid };

export type CommunityAccess = { community: CommunityRecord; subject: Subject; ctx: PermissionContext };

export async function accessCommunity(db: Executor, actor: ActorRef, communityId: string, now: Date, what = "community"): Promise<CommunityAccess> {
  const community = isUuid(communityId) ? await findCommunity(db, communityId) : undefined;
  if (!community) throw new NotFoundError(`No such ${what}.`);
  const member = (await findMembership(db, community.id, actor.userId, now)) ?? null;
  if (!member && !actor.isOwner) throw new NotFoundError(`No such ${what}.`);
  return { community, subject: { userId: actor.userId, isInstanceOwner: actor.isOwner, member }, ctx: policyContext(community, now) };
}

export function requireCan(access: { subject: Subject; ctx: PermissionContext }, action: Action, extra: Partial<PermissionContext> = {}, message?: string): void {
  if (!can(access.subject, action, { ...access.ctx, ...extra })) {
    throw new ForbiddenError(message ?? "You do not have permission to do that here.", "PERMISSION_DENIED");
  }
}

export function allows(access: { subject: Subject; ctx: PermissionContext }, action: Action, extra: Partial<PermissionContext> = {}): boolean {
  return can(access.subject, action, { ...access.ctx, ...extra });
}

export type GroupRecord = { id: string; communityId: string; name: string; position: number; createdAt: Date };

export async function accessGroup(db: Executor, actor: ActorRef, groupId: string, now: Date): Promise<CommunityAccess & { group: GroupRecord }> {
  const row = isUuid(groupId) ? await db.selectFrom("groups").selectAll().where("id", "=", groupId).executeTakeFirst() : undefined;
  if (!row) throw new NotFoundError("No such group.");
  const access = await accessCommunity(db, actor, row.community_id, now, "group");
  return { ...access, group: { id: row.id, communityId: row.community_id, name: row.name, position: row.position, createdAt: row.created_at } };
}

/** `actorName`: the actor's name in this channel (nickname, else display name), from the same query. */
export type ChannelAccess = { channel: ChannelRecord; community: CommunityAccess | null; actorName?: string | null };

/**
 * A community channel the actor may view, or a DM/group DM they take part in. DMs are reachable
 * only through channel_members: knowing the id gives nothing (reference §9 bug).
 * Its inputs come from one query (loadChannelAccess); the decision is `can(view_channel)`.
 */
export async function accessChannel(db: Executor, actor: ActorRef, channelId: string, now: Date): Promise<ChannelAccess> {
  const loaded = isUuid(channelId) ? await loadChannelAccess(db, channelId.toLowerCase(), actor.userId, now) : undefined;
  if (!loaded) throw new NotFoundError("No such channel.");
  const { channel } = loaded;
  if (channel.kind === "dm" || channel.kind === "group_dm") {
    if (!loaded.inChannelMembers) throw new NotFoundError("No such channel.");
    return { channel, community: null, actorName: loaded.actorName };
  }
  if (!loaded.community || (!loaded.member && !actor.isOwner)) throw new NotFoundError("No such channel.");
  const facts: ChannelFacts = {
    kind: channel.kind,
    isPrivate: channel.isPrivate,
    readOnly: channel.readOnly,
    archived: channel.archived,
    // Only a private channel's explicit members count (as when this was loaded on demand).
    isChannelMember: channel.isPrivate && loaded.inChannelMembers,
    overrides: loaded.overrides,
  };
  const community: CommunityAccess = {
    community: loaded.community,
    subject: { userId: actor.userId, isInstanceOwner: actor.isOwner, member: loaded.member },
    ctx: { ...policyContext(loaded.community, now), channel: facts },
  };
  if (!can(community.subject, "view_channel", community.ctx)) throw new NotFoundError("No such channel.");
  return { channel, community, actorName: loaded.actorName };
}
