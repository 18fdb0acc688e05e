/**
 * Loads the facts `can()` decides on, in as few queries as possible. The only place that turns
 * rows into a Subject / ChannelFacts, so every route sees the same model.
 */
import { createQueryId } from "kysely";
import { jsonArrayFrom } from "kysely/helpers/postgres";
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
  /** Bumped with every change of who may read the channel (viewer-versions.ts). */
  viewerVersion: number;
  /** May new members read what was said before they joined (docs/crypto.md). */
  historyVisibility: "shared" | "joined";
};

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
  viewer_version: number | string;
  history_visibility: string;
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
    viewerVersion: Number(r.viewer_version),
    historyVisibility: r.history_visibility === "joined" ? "joined" : "shared",
  };
}

/** Everything `accessChannel` decides on for (user, channel), as loaded by loadChannelAccess. */
export type LoadedChannelAccess = {
  channel: ChannelRecord;
  /** The channel's community; null for DMs and group DMs. */
  community: CommunityRecord | null;
  /** The user's membership in that community (custom roles, active timeout); null if none. */
  member: Membership | null;
  /** The user is in channel_members (a DM's participants, a private channel's members). */
  inChannelMembers: boolean;
  overrides: ChannelFacts["overrides"];
  /** The user's name as shown in this channel (community nickname, else display name); null if unknown. */
  actorName: string | null;
};

/**
 * ONE query for everything the access check of (user, channel) needs: the channel, its
 * community, the user's membership with custom roles and timeout, the channel's overrides and
 * whether the user is one of the channel's explicit members (DM, private channel). It replaces
 * the former findChannel + findCommunity + findMembership (2 queries) + loadChannelFacts: every send,
 * history page and subscribe goes through it, and inside a transaction each of those was a
 * round trip. Only how the inputs are loaded changed: `can()` still decides.
 */
export async function loadChannelAccess(db: Executor, channelId: string, userId: string, now: Date): Promise<LoadedChannelAccess | undefined> {
  const row = (await db.executeQuery(channelAccessQuery(db, channelId, userId))).rows[0];
  if (!row) return undefined;
  const community: CommunityRecord | null =
    row.co_id === null
      ? null
      : {
          id: row.co_id,
          name: row.co_name!,
          description: row.co_description,
          ownerId: row.co_owner_id!,
          whoCanCreateGroups: row.co_who_can_create_groups as CommunityPolicy,
          whoCanInvite: row.co_who_can_invite as CommunityPolicy,
          discoverable: row.co_discoverable!,
          createdAt: row.co_created_at!,
        };
  const expires = row.timeout_expires_at ? new Date(row.timeout_expires_at) : null;
  const member: Membership | null =
    row.member_role === null
      ? null
      : { role: row.member_role as BaseRole, customRoles: row.custom_roles as CustomRole[], timedOutUntil: expires && expires.getTime() > now.getTime() ? expires : null };
  return {
    channel: toChannelRecord(row),
    community,
    member,
    inChannelMembers: Boolean(row.in_channel_members),
    overrides: row.overrides.map((o) => ({ baseRole: o.base_role, roleId: o.role_id, allow: o.allow, deny: o.deny })),
    actorName: row.member_nickname ?? row.actor_display_name ?? null,
  };
}

// The query is built and compiled once, with stand-ins for its two values, and reused with the
// real ones: building and compiling it with Kysely costs ~0.1–0.2 ms of CPU per call, as much as
// the rest of a message send. Both dialects (postgres.js, PGlite) share Kysely's PostgreSQL
// compiler, so one compiled form fits every executor. It caches SQL text, never data.
const CHANNEL_STAND_IN = "00000000-0000-4000-8000-00000000c4a1";
const USER_STAND_IN = "00000000-0000-4000-8000-0000000005e4";
type AccessQuery = ReturnType<typeof buildChannelAccessQuery>;
let compiledAccessQuery: AccessQuery | undefined;

function channelAccessQuery(db: Executor, channelId: string, userId: string): AccessQuery {
  compiledAccessQuery ??= buildChannelAccessQuery(db);
  const template = compiledAccessQuery;
  return { ...template, queryId: createQueryId(), parameters: template.parameters.map((p) => (p === CHANNEL_STAND_IN ? channelId : p === USER_STAND_IN ? userId : p)) };
}

function buildChannelAccessQuery(db: Executor) {
  const userId = USER_STAND_IN;
  const compiled = db
    .selectFrom("channels as c")
    .leftJoin("communities as co", "co.id", "c.community_id")
    .leftJoin("community_members as m", (j) => j.onRef("m.community_id", "=", "c.community_id").on("m.user_id", "=", userId))
    .leftJoin("community_timeouts as t", (j) => j.onRef("t.community_id", "=", "c.community_id").on("t.user_id", "=", userId))
    // The sender's name for the message:new a send publishes (authors come from the server's data).
    .leftJoin("users as u", (j) => j.on("u.id", "=", userId))
    .selectAll("c")
    .select([
      "co.id as co_id",
      "co.name as co_name",
      "co.description as co_description",
      "co.owner_id as co_owner_id",
      "co.who_can_create_groups as co_who_can_create_groups",
      "co.who_can_invite as co_who_can_invite",
      "co.discoverable as co_discoverable",
      "co.created_at as co_created_at",
      "m.role as member_role",
      "m.nickname as member_nickname",
      "u.display_name as actor_display_name",
      "t.expires_at as timeout_expires_at",
    ])
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom("community_member_roles as mr")
          .innerJoin("community_roles as r", "r.id", "mr.role_id")
          .select(["r.id", "r.permissions", "r.position"])
          .whereRef("mr.community_id", "=", "c.community_id")
          .where("mr.user_id", "=", userId),
      ).as("custom_roles"),
      jsonArrayFrom(eb.selectFrom("channel_role_overrides as o").select(["o.base_role", "o.role_id", "o.allow", "o.deny"]).whereRef("o.channel_id", "=", "c.id")).as("overrides"),
      eb.exists(eb.selectFrom("channel_members as cm").select("cm.user_id").whereRef("cm.channel_id", "=", "c.id").where("cm.user_id", "=", userId)).as("in_channel_members"),
    ])
    .where("c.id", "=", CHANNEL_STAND_IN)
    .compile();
  // Every value of the query is one of the stand-ins: nothing else may be frozen into it.
  if (compiled.parameters.some((p) => p !== CHANNEL_STAND_IN && p !== USER_STAND_IN)) throw new Error("channel access query: unexpected literal parameter");
  return compiled;
}
