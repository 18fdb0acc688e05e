/**
 * Loads the facts `can()` decides on, in as few queries as possible. The only place that turns
 * rows into a Subject / ChannelFacts, so every route sees the same model.
 */
import type { Executor } from "../../db/tx.ts";
import type { BaseRole, ChannelFacts, CommunityPolicy, CustomRole, Membership, PermissionContext } from "./model.ts";

export type CommunityRecord = {
  id: string;
  name: string;
  description: string | null;
  ownerId: string;
  whoCanCreateGroups: CommunityPolicy;
  whoCanInvite: CommunityPolicy;
  discoverable: boolean;
  createdAt: Date;
};

export async function findCommunity(db: Executor, id: string): Promise<CommunityRecord | undefined> {
  const row = await db.selectFrom("communities").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ownerId: row.owner_id,
    whoCanCreateGroups: row.who_can_create_groups as CommunityPolicy,
    whoCanInvite: row.who_can_invite as CommunityPolicy,
    discoverable: row.discoverable,
    createdAt: row.created_at,
  };
}

/** Membership with custom roles and any active timeout; undefined for a non-member. */
export async function findMembership(db: Executor, communityId: string, userId: string, now: Date): Promise<Membership | undefined> {
  const row = await db
    .selectFrom("community_members as m")
    .leftJoin("community_timeouts as t", (j) => j.onRef("t.community_id", "=", "m.community_id").onRef("t.user_id", "=", "m.user_id"))
    .select(["m.role", "t.expires_at"])
    .where("m.community_id", "=", communityId)
    .where("m.user_id", "=", userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const roles = await db
    .selectFrom("community_member_roles as mr")
    .innerJoin("community_roles as r", "r.id", "mr.role_id")
    .select(["r.id", "r.permissions", "r.position"])
    .where("mr.community_id", "=", communityId)
    .where("mr.user_id", "=", userId)
    .execute();
  const expires = row.expires_at && row.expires_at.getTime() > now.getTime() ? row.expires_at : null;
  return { role: row.role as BaseRole, customRoles: roles as CustomRole[], timedOutUntil: expires };
}

export function policyContext(community: CommunityRecord, now: Date): PermissionContext {
  return { community: { ownerId: community.ownerId, whoCanCreateGroups: community.whoCanCreateGroups, whoCanInvite: community.whoCanInvite }, now };
}

export type ChannelRecord = {
  id: string;
  kind: "text" | "voice" | "announcement" | "dm" | "group_dm";
  communityId: string | null;
  groupId: string | null;
  name: string | null;
  topic: string | null;
  isPrivate: boolean;
  readOnly: boolean;
  archived: boolean;
  slowModeSeconds: number;
  messageTtlSeconds: number;
  position: number;
  createdAt: Date;
};

export async function findChannel(db: Executor, id: string): Promise<ChannelRecord | undefined> {
  const r = await db.selectFrom("channels").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? toChannelRecord(r) : undefined;
}

export function toChannelRecord(r: {
  id: string;
  kind: string;
  community_id: string | null;
  group_id: string | null;
  name: string | null;
  topic: string | null;
  is_private: boolean;
  read_only: boolean;
  archived: boolean;
  slow_mode_seconds: number;
  message_ttl_seconds: number;
  position: number;
  created_at: Date;
}): ChannelRecord {
  return {
    id: r.id,
    kind: r.kind as ChannelRecord["kind"],
    communityId: r.community_id,
    groupId: r.group_id,
    name: r.name,
    topic: r.topic,
    isPrivate: r.is_private,
    readOnly: r.read_only,
    archived: r.archived,
    slowModeSeconds: r.slow_mode_seconds,
    messageTtlSeconds: r.message_ttl_seconds,
    position: r.position,
    createdAt: r.created_at,
  };
}

export async function loadChannelFacts(db: Executor, channel: ChannelRecord, userId: string): Promise<ChannelFacts> {
  const [overrides, membership] = await Promise.all([
    db.selectFrom("channel_role_overrides").select(["base_role", "role_id", "allow", "deny"]).where("channel_id", "=", channel.id).execute(),
    channel.isPrivate
      ? db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channel.id).where("user_id", "=", userId).executeTakeFirst()
      : Promise.resolve(undefined),
  ]);
  return {
    kind: channel.kind as ChannelFacts["kind"],
    isPrivate: channel.isPrivate,
    readOnly: channel.readOnly,
    archived: channel.archived,
    isChannelMember: membership !== undefined,
    overrides: overrides.map((o) => ({ baseRole: o.base_role, roleId: o.role_id, allow: o.allow, deny: o.deny })),
  };
}
