/** Group and channel rows. */
import { sql } from "kysely";
import type { Executor } from "../../db/tx.ts";
import { toChannelRecord, type ChannelRecord } from "../permissions/index.ts";

/** Creating a group always makes its `general` text channel (issue 5 §2). */
export async function insertGroupWithGeneralChannel(tx: Executor, g: { communityId: string; name: string; createdBy: string; now: Date; position?: number }): Promise<{ groupId: string; channelId: string }> {
  const groupId = Bun.randomUUIDv7();
  const channelId = Bun.randomUUIDv7();
  await tx.insertInto("groups").values({ id: groupId, community_id: g.communityId, name: g.name, position: g.position ?? 0, created_by: g.createdBy, created_at: g.now }).execute();
  await tx
    .insertInto("channels")
    .values({ id: channelId, kind: "text", community_id: g.communityId, group_id: groupId, name: "general", topic: null, created_by: g.createdBy, created_at: g.now })
    .execute();
  return { groupId, channelId };
}

export async function countGroups(db: Executor, communityId: string): Promise<number> {
  const r = await db.selectFrom("groups").select(sql<number>`count(*)::int`.as("n")).where("community_id", "=", communityId).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function countChannels(db: Executor, groupId: string): Promise<number> {
  const r = await db.selectFrom("channels").select(sql<number>`count(*)::int`.as("n")).where("group_id", "=", groupId).executeTakeFirstOrThrow();
  return Number(r.n);
}

export type GroupWithChannels = { id: string; name: string; position: number; channels: ChannelRecord[] };

/** All groups of a community with all their channels (the caller filters by view permission). */
export async function listGroupsWithChannels(db: Executor, communityId: string): Promise<GroupWithChannels[]> {
  const groups = await db.selectFrom("groups").select(["id", "name", "position"]).where("community_id", "=", communityId).orderBy("position").orderBy("created_at").execute();
  const channels = await db.selectFrom("channels").selectAll().where("community_id", "=", communityId).orderBy("position").orderBy("created_at").execute();
  return groups.map((g) => ({ ...g, channels: channels.filter((c) => c.group_id === g.id).map(toChannelRecord) }));
}

export type OverrideRow = { id: string; baseRole: string | null; roleId: string | null; allow: string[]; deny: string[] };

export async function listOverrides(db: Executor, channelIds: string[]): Promise<Map<string, OverrideRow[]>> {
  const map = new Map<string, OverrideRow[]>();
  if (!channelIds.length) return map;
  const rows = await db.selectFrom("channel_role_overrides").selectAll().where("channel_id", "in", channelIds).execute();
  for (const r of rows) {
    const list = map.get(r.channel_id) ?? [];
    list.push({ id: r.id, baseRole: r.base_role, roleId: r.role_id, allow: r.allow, deny: r.deny });
    map.set(r.channel_id, list);
  }
  return map;
}

export async function listChannelMemberships(db: Executor, userId: string, channelIds: string[]): Promise<Set<string>> {
  if (!channelIds.length) return new Set();
  const rows = await db.selectFrom("channel_members").select("channel_id").where("user_id", "=", userId).where("channel_id", "in", channelIds).execute();
  return new Set(rows.map((r) => r.channel_id));
}
