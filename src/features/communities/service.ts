/**
 * Communities: create, read, settings, delete, transfer, leave, member roles. Both faces (JSON
 * API and pages) call these; every mutation is one transaction with events after COMMIT.
 */
import { communityCreationModeOf } from "../../db/runtime-settings.ts";
import type { AppDeps } from "../../deps.ts";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessCommunity, applyChange, bumpViewerVersions, isUuid, requireCan, type CommunityAccess } from "../permissions/index.ts";
import { findMembership } from "../permissions/index.ts";
import { ASSIGNABLE_ROLES, type AssignableRole, type CommunityPolicy } from "../permissions/index.ts";
import { insertGroupWithGeneralChannel } from "../channels/index.ts";
import { insertCommunityAudit } from "./audit.ts";
import { dbOf, mutate, nowOf, optionalText, requireText, type ActorLike } from "./context.ts";
import { queueMembershipChange } from "./events.ts";
import { insertMembership } from "./membership.ts";
import { listCommunityChannelIds, listMembers, type MemberView } from "./queries.ts";

const POLICIES: readonly CommunityPolicy[] = ["everyone", "moderator", "admin"];

export async function createCommunity(deps: AppDeps, actor: ActorLike, input: { name: string; description?: string | null }) {
  // The runtime value (Settings tab) when an admin set one, else COMMUNITY_CREATION_MODE.
  if (!actor.isOwner && !actor.isAdmin && (await communityCreationModeOf(deps)) === "admin_only") {
    throw new ForbiddenError("On this server only administrators can create communities.", "COMMUNITY_CREATION_RESTRICTED");
  }
  const name = requireText("name", "Community name", input.name, 1, 64);
  const description = optionalText("description", "Description", input.description, 2048);
  const now = nowOf(deps);
  const id = Bun.randomUUIDv7();
  await mutate(deps, async (tx, outbox) => {
    await tx.insertInto("communities").values({ id, name, description, owner_id: actor.userId, created_at: now }).execute();
    await insertMembership(tx, { communityId: id, userId: actor.userId, role: "owner", now });
    // A community starts usable: one folder with its #general channel.
    const { channelId } = await insertGroupWithGeneralChannel(tx, { communityId: id, name: "General", createdBy: actor.userId, now });
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_created", targetType: "community", targetId: id, at: now });
    queueMembershipChange(deps, outbox, { userId: actor.userId, communityId: id, kind: "joined", channelIds: [channelId], role: "owner" });
  });
  return { id, name, description };
}

export async function getCommunity(deps: AppDeps, actor: ActorLike, id: string): Promise<CommunityAccess> {
  return accessCommunity(dbOf(deps), actor, id, nowOf(deps));
}

export type CommunityPatch = { name?: string; description?: string | null; whoCanCreateGroups?: string; whoCanInvite?: string; discoverable?: boolean };

export async function updateCommunity(deps: AppDeps, actor: ActorLike, id: string, patch: CommunityPatch) {
  const now = nowOf(deps);
  const set: { name?: string; description?: string | null; who_can_create_groups?: string; who_can_invite?: string; discoverable?: boolean } = {};
  if (patch.name !== undefined) set.name = requireText("name", "Community name", patch.name, 1, 64);
  if (patch.description !== undefined) set.description = optionalText("description", "Description", patch.description, 2048);
  for (const [key, column] of [["whoCanCreateGroups", "who_can_create_groups"], ["whoCanInvite", "who_can_invite"]] as const) {
    const value = patch[key];
    if (value === undefined) continue;
    if (!POLICIES.includes(value as CommunityPolicy)) throw new InvalidInputError(`${column} must be one of: everyone, moderator, admin.`, { [column]: "Choose everyone, moderator or admin." });
    set[column] = value;
  }
  if (patch.discoverable !== undefined) set.discoverable = patch.discoverable;
  return mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, id, now);
    requireCan(access, "edit_community");
    if (Object.keys(set).length > 0) {
      await tx.updateTable("communities").set(set).where("id", "=", id).execute();
      await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_updated", metadata: { fields: Object.keys(set) }, at: now });
      outbox.push(`community:${id}`, { type: "community:updated", community_id: id });
    }
    return accessCommunity(tx, actor, id, now);
  });
}

/**
 * Deletes the community and everything under it (groups, channels, members, roles, invites, bans,
 * audit rows…) with ONE statement: every child table cascades from communities(id).
 */
export async function deleteCommunity(deps: AppDeps, actor: ActorLike, id: string, confirmName: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, id, now);
    requireCan(access, "delete_community", {}, "Only the community owner can delete it.");
    if ((confirmName ?? "").trim() !== access.community.name) {
      throw new InvalidInputError("Type the community's name exactly to confirm deletion.", { confirm_name: "This does not match the community's name." }, "CONFIRMATION_MISMATCH");
    }
    const members = await tx.selectFrom("community_members").select("user_id").where("community_id", "=", id).execute();
    const channelIds = await listCommunityChannelIds(tx, id);
    // Lock the row so a concurrent join or group creation waits and then finds nothing.
    await tx.selectFrom("communities").select("id").where("id", "=", id).forUpdate().execute();
    await tx.deleteFrom("communities").where("id", "=", id).execute();
    for (const m of members) queueMembershipChange(deps, outbox, { userId: m.user_id, communityId: id, kind: "left", channelIds });
    outbox.push(`community:${id}`, { type: "community:deleted", community_id: id });
  });
}

export async function transferOwnership(deps: AppDeps, actor: ActorLike, id: string, newOwnerId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { from, joined } = await applyChange(tx, actor, "transfer_ownership", { communityId: id, userId: newOwnerId }, now);
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "ownership_transferred", targetUserId: newOwnerId, metadata: { from }, at: now });
    queueMembershipChange(deps, outbox, { userId: newOwnerId, communityId: id, kind: joined ? "joined" : "role_changed", role: "owner" });
    queueMembershipChange(deps, outbox, { userId: from, communityId: id, kind: "role_changed", role: "admin" });
  });
}

/**
 * Removes a member's rows in one community (membership cascades custom roles). Every removal
 * (leave, kick, ban) goes through here, so this is where the community's channels get a new
 * viewer version (viewer-versions.ts): the next send there is encrypted without the member.
 */
export async function removeMembershipRows(tx: Parameters<Parameters<typeof mutate>[1]>[0], communityId: string, userId: string): Promise<string[]> {
  await bumpViewerVersions(tx, { communityIds: [communityId] });
  const channelIds = await listCommunityChannelIds(tx, communityId);
  if (channelIds.length) await tx.deleteFrom("channel_members").where("user_id", "=", userId).where("channel_id", "in", channelIds).execute();
  await tx.deleteFrom("community_members").where("community_id", "=", communityId).where("user_id", "=", userId).execute();
  return channelIds;
}

export async function leaveCommunity(deps: AppDeps, actor: ActorLike, id: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, id, now);
    if (!access.subject.member) throw new NotFoundError("No such community.");
    if (access.subject.member.role === "owner") throw new ConflictError("Transfer ownership to another member before leaving.", "OWNER_CANNOT_LEAVE");
    const channelIds = await removeMembershipRows(tx, id, actor.userId);
    queueMembershipChange(deps, outbox, { userId: actor.userId, communityId: id, kind: "left", channelIds });
  });
}

export async function listCommunityMembers(deps: AppDeps, actor: ActorLike, id: string, page: { limit: number; offset: number }): Promise<MemberView[]> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  await accessCommunity(db, actor, id, now);
  return listMembers(db, id, { ...page, now });
}

/** Loads a target member for a person-directed action; 404 when they are not a member. */
export async function loadTarget(tx: Parameters<typeof findMembership>[0], communityId: string, userId: string, now: Date) {
  const member = isUuid(userId) ? await findMembership(tx, communityId, userId, now) : undefined;
  if (!member) throw new NotFoundError("That user is not a member of this community.");
  return { userId, member };
}

export async function setMemberRole(deps: AppDeps, actor: ActorLike, id: string, userId: string, role: string) {
  if (!ASSIGNABLE_ROLES.includes(role as AssignableRole)) throw new InvalidInputError("Role must be admin, moderator or member (ownership moves by transfer).", { role: "Choose admin, moderator or member." });
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { from } = await applyChange(tx, actor, "set_base_role", { communityId: id, userId, role: role as AssignableRole }, now);
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "member_role_changed", targetUserId: userId, metadata: { from, to: role }, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId: id, kind: "role_changed", role });
  });
}

export async function setMemberCustomRoles(deps: AppDeps, actor: ActorLike, id: string, userId: string, roleIds: string[]) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { roleIds: assigned } = await applyChange(tx, actor, "set_custom_roles", { communityId: id, userId, roleIds }, now);
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "member_roles_set", targetUserId: userId, metadata: { role_ids: assigned }, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId: id, kind: "role_changed" });
  });
}
