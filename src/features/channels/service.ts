/**
 * Groups (folders) and channels. Limits: 200 groups per community, 100 channels per group; the
 * community row is locked while counting so two concurrent creations cannot both squeeze past.
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessChannel, accessCommunity, accessGroup, applyChange, bumpViewerVersions, requireCan } from "../permissions/index.ts";
import { ASSIGNABLE_ROLES, isPermission, type AssignableRole } from "../permissions/index.ts";
import { insertCommunityAudit, queueAccessChange } from "../communities/index.ts";
import { dbOf, mutate, nowOf, optionalText, requireIntRange, requireText, type ActorLike } from "../communities/index.ts";
import { countChannels, countGroups, insertGroupWithGeneralChannel } from "./queries.ts";

export const MAX_GROUPS_PER_COMMUNITY = 200;
export const MAX_CHANNELS_PER_GROUP = 100;
export const MAX_TTL_SECONDS = 30 * 24 * 3600;
const KINDS = ["text", "voice", "announcement"] as const;

export async function createGroup(deps: AppDeps, actor: ActorLike, communityId: string, input: { name: string }) {
  const name = requireText("name", "Group name", input.name, 1, 64);
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "create_group", {}, "Your role cannot create groups in this community.");
    // Lock the community: concurrent creations count one after the other, and a concurrent
    // deletion leaves nothing to insert into (404, not a foreign-key error).
    const locked = await tx.selectFrom("communities").select("id").where("id", "=", communityId).forUpdate().executeTakeFirst();
    if (!locked) throw new NotFoundError("No such community.");
    const count = await countGroups(tx, communityId);
    if (count >= MAX_GROUPS_PER_COMMUNITY) throw new ConflictError(`A community can have at most ${MAX_GROUPS_PER_COMMUNITY} groups.`, "GROUP_LIMIT_REACHED");
    const ids = await insertGroupWithGeneralChannel(tx, { communityId, name, createdBy: actor.userId, now, position: count });
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "group_created", targetType: "group", targetId: ids.groupId, metadata: { name }, at: now });
    outbox.push(`community:${communityId}`, { type: "group:created", community_id: communityId, group_id: ids.groupId, channel_id: ids.channelId });
    return { id: ids.groupId, communityId, name, generalChannelId: ids.channelId };
  });
}

export async function getGroup(deps: AppDeps, actor: ActorLike, groupId: string) {
  return accessGroup(dbOf(deps), actor, groupId, nowOf(deps));
}

export async function renameGroup(deps: AppDeps, actor: ActorLike, groupId: string, input: { name: string }) {
  const name = requireText("name", "Group name", input.name, 1, 64);
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessGroup(tx, actor, groupId, now);
    requireCan(access, "manage_channels");
    await tx.updateTable("groups").set({ name }).where("id", "=", groupId).execute();
    await insertCommunityAudit(tx, { communityId: access.community.id, actorId: actor.userId, action: "group_updated", targetType: "group", targetId: groupId, metadata: { name }, at: now });
    outbox.push(`community:${access.community.id}`, { type: "group:updated", group_id: groupId });
  });
}

export async function deleteGroup(deps: AppDeps, actor: ActorLike, groupId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessGroup(tx, actor, groupId, now);
    requireCan(access, "manage_channels");
    const channelIds = (await tx.selectFrom("channels").select("id").where("group_id", "=", groupId).execute()).map((c) => c.id);
    await tx.deleteFrom("groups").where("id", "=", groupId).execute(); // channels cascade
    if (channelIds.length) queueAccessChange(deps, outbox, { communityId: access.community.id, kind: "channel_deleted", channelIds });
    await insertCommunityAudit(tx, { communityId: access.community.id, actorId: actor.userId, action: "group_deleted", targetType: "group", targetId: groupId, metadata: { name: access.group.name }, at: now });
    outbox.push(`community:${access.community.id}`, { type: "group:deleted", group_id: groupId });
  });
}

export type ChannelInput = {
  name?: string;
  kind?: string;
  topic?: string | null;
  isPrivate?: boolean;
  readOnly?: boolean;
  archived?: boolean;
  slowModeSeconds?: number;
  messageTtlSeconds?: number;
  historyVisibility?: string;
};

/** docs/crypto.md "Shared history": may new members read what was said before they joined. */
export const HISTORY_VISIBILITIES = ["shared", "joined"] as const;

function validateChannelInput(input: ChannelInput) {
  const out: { name?: string; kind?: string; topic?: string | null; is_private?: boolean; read_only?: boolean; archived?: boolean; slow_mode_seconds?: number; message_ttl_seconds?: number; history_visibility?: string } = {};
  if (input.name !== undefined) {
    const name = requireText("name", "Channel name", input.name, 1, 64);
    out.name = name;
  }
  if (input.kind !== undefined) {
    if (!KINDS.includes(input.kind as (typeof KINDS)[number])) throw new InvalidInputError("Channel kind must be text, voice or announcement.", { kind: "Choose text, voice or announcement." });
    out.kind = input.kind;
  }
  if (input.topic !== undefined) out.topic = optionalText("topic", "Topic", input.topic, 512);
  if (input.isPrivate !== undefined) out.is_private = input.isPrivate;
  if (input.readOnly !== undefined) out.read_only = input.readOnly;
  if (input.archived !== undefined) out.archived = input.archived;
  if (input.slowModeSeconds !== undefined) out.slow_mode_seconds = requireIntRange("slow_mode_seconds", "Slow mode", input.slowModeSeconds, 0, 86400, " seconds");
  if (input.messageTtlSeconds !== undefined) out.message_ttl_seconds = requireIntRange("message_ttl_seconds", "Message lifetime", input.messageTtlSeconds, 0, MAX_TTL_SECONDS, " seconds (30 days)");
  if (input.historyVisibility !== undefined) {
    if (!(HISTORY_VISIBILITIES as readonly string[]).includes(input.historyVisibility)) {
      throw new InvalidInputError("History visibility must be shared or joined.", { history_visibility: "Choose shared (new members read earlier messages) or joined (only from when they joined)." }, "INVALID_HISTORY_VISIBILITY");
    }
    out.history_visibility = input.historyVisibility;
  }
  return out;
}

export async function createChannel(deps: AppDeps, actor: ActorLike, groupId: string, input: ChannelInput) {
  if (input.name === undefined) throw new InvalidInputError("Channel name must be 1–64 characters.", { name: "Channel name must be 1–64 characters." });
  const values = validateChannelInput({ ...input, kind: input.kind ?? "text" });
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const access = await accessGroup(tx, actor, groupId, now);
    requireCan(access, "manage_channels", {}, "Your role cannot create channels here.");
    const locked = await tx.selectFrom("groups").select("id").where("id", "=", groupId).forUpdate().executeTakeFirst();
    if (!locked) throw new NotFoundError("No such group.");
    const count = await countChannels(tx, groupId);
    if (count >= MAX_CHANNELS_PER_GROUP) throw new ConflictError(`A group can have at most ${MAX_CHANNELS_PER_GROUP} channels.`, "CHANNEL_LIMIT_REACHED");
    const id = Bun.randomUUIDv7();
    await tx
      .insertInto("channels")
      .values({ id, community_id: access.community.id, group_id: groupId, name: values.name!, kind: values.kind!, topic: values.topic ?? null, is_private: values.is_private ?? false, read_only: values.read_only ?? false, archived: values.archived ?? false, slow_mode_seconds: values.slow_mode_seconds ?? 0, message_ttl_seconds: values.message_ttl_seconds ?? 0, history_visibility: values.history_visibility ?? "shared", position: count, created_by: actor.userId, created_at: now })
      .execute();
    // The creator of a private channel is in it.
    if (values.is_private) await tx.insertInto("channel_members").values({ channel_id: id, user_id: actor.userId, added_at: now }).execute();
    await insertCommunityAudit(tx, { communityId: access.community.id, actorId: actor.userId, action: "channel_created", targetType: "channel", targetId: id, metadata: { name: values.name, kind: values.kind }, at: now });
    outbox.push(`community:${access.community.id}`, { type: "channel:created", channel_id: id, group_id: groupId });
    return { id };
  });
}

export async function getChannel(deps: AppDeps, actor: ActorLike, channelId: string) {
  return accessChannel(dbOf(deps), actor, channelId, nowOf(deps));
}

export async function updateChannel(deps: AppDeps, actor: ActorLike, channelId: string, input: ChannelInput) {
  const values = validateChannelInput(input);
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessChannel(tx, actor, channelId, now);
    if (!access.community) throw new NotFoundError("No such channel.");
    requireCan(access.community, "manage_channels");
    if (Object.keys(values).length === 0) return;
    await tx.updateTable("channels").set(values).where("id", "=", channelId).execute();
    if (values.is_private !== undefined && values.is_private !== access.channel.isPrivate) {
      await bumpViewerVersions(tx, { channelIds: [channelId] });
      queueAccessChange(deps, outbox, { communityId: access.channel.communityId!, kind: "channel_privacy_changed", channelIds: [channelId] });
    } else if ((values.archived !== undefined && values.archived !== access.channel.archived) || (values.kind !== undefined && values.kind !== access.channel.kind)) {
      // Viewing is unchanged, but an archived channel or one that is no longer a voice channel takes no callers.
      queueAccessChange(deps, outbox, { communityId: access.channel.communityId!, kind: "channel_settings_changed", channelIds: [channelId] });
    }
    await insertCommunityAudit(tx, { communityId: access.channel.communityId!, actorId: actor.userId, action: "channel_updated", targetType: "channel", targetId: channelId, metadata: { fields: Object.keys(values) }, at: now });
    outbox.push(`channel:${channelId}`, { type: "channel:updated", channel_id: channelId });
    outbox.push(`community:${access.channel.communityId}`, { type: "channel:updated", channel_id: channelId });
  });
}

export async function deleteChannel(deps: AppDeps, actor: ActorLike, channelId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessChannel(tx, actor, channelId, now);
    if (!access.community) throw new NotFoundError("No such channel.");
    requireCan(access.community, "manage_channels");
    await tx.deleteFrom("channels").where("id", "=", channelId).execute();
    queueAccessChange(deps, outbox, { communityId: access.channel.communityId!, kind: "channel_deleted", channelIds: [channelId] });
    await insertCommunityAudit(tx, { communityId: access.channel.communityId!, actorId: actor.userId, action: "channel_deleted", targetType: "channel", targetId: channelId, metadata: { name: access.channel.name }, at: now });
    outbox.push(`community:${access.channel.communityId}`, { type: "channel:deleted", channel_id: channelId });
  });
}

export type OverrideInput = { baseRole?: string | null; roleId?: string | null; allow: string[]; deny: string[] };

/** Sets one role's allow/deny in a channel; who may is `applyChange`'s decision (write_override). */
export async function setChannelOverride(deps: AppDeps, actor: ActorLike, channelId: string, input: OverrideInput) {
  const now = nowOf(deps);
  const bad = [...input.allow, ...input.deny].filter((p) => !isPermission(p));
  if (bad.length) throw new InvalidInputError(`Unknown permission: ${bad.join(", ")}.`, { allow: "Unknown permission." });
  if (!!input.baseRole === !!input.roleId) throw new InvalidInputError("Give exactly one of base_role or role_id.", { role: "Choose one role." });
  if (input.baseRole && !(ASSIGNABLE_ROLES as readonly string[]).includes(input.baseRole)) throw new InvalidInputError("base_role must be admin, moderator or member.", { base_role: "Invalid role." });
  const allow = [...new Set(input.allow)];
  const deny = [...new Set(input.deny)];
  const target = input.baseRole ? { baseRole: input.baseRole as AssignableRole } : { roleId: input.roleId! };
  await mutate(deps, async (tx, outbox) => {
    const { communityId } = await applyChange(tx, actor, "write_override", { channelId, target, allow, deny }, now);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "channel_override_set", targetType: "channel", targetId: channelId, metadata: { base_role: input.baseRole ?? null, role_id: input.roleId ?? null, allow, deny }, at: now });
    outbox.push(`community:${communityId}`, { type: "channel:updated", channel_id: channelId });
    queueAccessChange(deps, outbox, { communityId, kind: "override_changed", channelIds: [channelId] });
  });
}

/** Adds a member of the community to a private channel. */
export async function addChannelMember(deps: AppDeps, actor: ActorLike, channelId: string, userId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { communityId } = await applyChange(tx, actor, "add_channel_member", { channelId, userId }, now);
    outbox.push(`user:${userId}`, { type: "channel:added", channel_id: channelId, community_id: communityId });
    queueAccessChange(deps, outbox, { communityId, kind: "channel_members_changed", channelIds: [channelId], userIds: [userId] });
  });
}

/**
 * Takes someone out of a private channel's explicit members (not someone ranked at or above the
 * actor). Their open sockets stop following the channel at once if that was their only way to
 * see it (owners and admins still see it).
 */
export async function removeChannelMember(deps: AppDeps, actor: ActorLike, channelId: string, userId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { communityId } = await applyChange(tx, actor, "remove_channel_member", { channelId, userId }, now);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "channel_updated", targetType: "channel", targetId: channelId, metadata: { removed_member: userId }, at: now });
    outbox.push(`user:${userId}`, { type: "channel:removed", channel_id: channelId, community_id: communityId });
    queueAccessChange(deps, outbox, { communityId, kind: "channel_members_changed", channelIds: [channelId], userIds: [userId] });
  });
}

export async function removeChannelOverride(deps: AppDeps, actor: ActorLike, channelId: string, overrideId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { communityId } = await applyChange(tx, actor, "remove_override", { channelId, overrideId }, now);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "channel_override_removed", targetType: "channel", targetId: channelId, at: now });
    outbox.push(`community:${communityId}`, { type: "channel:updated", channel_id: channelId });
    queueAccessChange(deps, outbox, { communityId, kind: "override_changed", channelIds: [channelId] });
  });
}

export type OverrideView = { id: string; channelId: string; channelName: string | null; baseRole: string | null; roleId: string | null; roleName: string | null; allow: string[]; deny: string[] };

/** Every override in a community (for the roles & permissions editor). */
export async function listCommunityOverrides(deps: AppDeps, actor: ActorLike, communityId: string): Promise<OverrideView[]> {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  requireCan(access, "manage_roles");
  const rows = await db
    .selectFrom("channel_role_overrides as o")
    .innerJoin("channels as c", "c.id", "o.channel_id")
    .leftJoin("community_roles as r", "r.id", "o.role_id")
    .select(["o.id", "o.channel_id", "c.name as channel_name", "o.base_role", "o.role_id", "r.name as role_name", "o.allow", "o.deny"])
    .where("c.community_id", "=", communityId)
    .orderBy("c.name")
    .execute();
  return rows.map((r) => ({ id: r.id, channelId: r.channel_id, channelName: r.channel_name, baseRole: r.base_role, roleId: r.role_id, roleName: r.role_name, allow: r.allow, deny: r.deny }));
}
