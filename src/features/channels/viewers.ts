/**
 * Who can see a channel: the people a sender must give the channel's encryption key to. For a
 * community channel that is every community member for whom `can(view_channel)` holds (private
 * channels and deny overrides included), evaluated with the same model as every other check, in a
 * fixed number of queries; for a DM or group DM, its participants. Handing a sender key to anyone
 * else would let them read a channel the server refuses to show them.
 */
import type { Executor } from "../../db/tx.ts";
import { can, findCommunity, policyContext, type BaseRole, type ChannelFacts, type ChannelRecord, type CustomRole } from "../permissions/index.ts";

export type ChannelViewer = { userId: string; displayName: string; nickname: string | null };

/** Bounded like other member lists; a community past this needs paging in the client too. */
export const MAX_CHANNEL_VIEWERS = 10_000;

export async function listChannelViewers(db: Executor, channel: ChannelRecord, now: Date): Promise<ChannelViewer[]> {
  if (!channel.communityId) {
    const rows = await db
      .selectFrom("channel_members as c")
      .innerJoin("users as u", "u.id", "c.user_id")
      .select(["u.id", "u.display_name"])
      .where("c.channel_id", "=", channel.id)
      .orderBy("u.id")
      .execute();
    return rows.map((r) => ({ userId: r.id, displayName: r.display_name, nickname: null }));
  }
  const community = await findCommunity(db, channel.communityId);
  if (!community) return [];
  const [members, roles, overrides, explicit] = await Promise.all([
    db
      .selectFrom("community_members as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .leftJoin("community_timeouts as t", (j) => j.onRef("t.community_id", "=", "m.community_id").onRef("t.user_id", "=", "m.user_id"))
      .select(["m.user_id", "m.role", "m.nickname", "u.display_name", "u.is_owner", "t.expires_at"])
      .where("m.community_id", "=", community.id)
      .orderBy("m.user_id")
      .limit(MAX_CHANNEL_VIEWERS)
      .execute(),
    db
      .selectFrom("community_member_roles as mr")
      .innerJoin("community_roles as r", "r.id", "mr.role_id")
      .select(["mr.user_id", "r.id", "r.permissions", "r.position"])
      .where("mr.community_id", "=", community.id)
      .execute(),
    db.selectFrom("channel_role_overrides").select(["base_role", "role_id", "allow", "deny"]).where("channel_id", "=", channel.id).execute(),
    channel.isPrivate ? db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channel.id).execute() : Promise.resolve([]),
  ]);
  const rolesOf = new Map<string, CustomRole[]>();
  for (const r of roles) rolesOf.set(r.user_id, [...(rolesOf.get(r.user_id) ?? []), { id: r.id, permissions: r.permissions, position: r.position }]);
  const explicitIds = new Set(explicit.map((e) => e.user_id));
  const baseCtx = policyContext(community, now);
  const facts = (userId: string): ChannelFacts => ({
    kind: channel.kind as ChannelFacts["kind"],
    isPrivate: channel.isPrivate,
    readOnly: channel.readOnly,
    archived: channel.archived,
    isChannelMember: explicitIds.has(userId),
    overrides: overrides.map((o) => ({ baseRole: o.base_role, roleId: o.role_id, allow: o.allow, deny: o.deny })),
  });
  return members
    .filter((m) => {
      const timedOutUntil = m.expires_at && m.expires_at.getTime() > now.getTime() ? m.expires_at : null;
      const subject = { userId: m.user_id, isInstanceOwner: m.is_owner, member: { role: m.role as BaseRole, customRoles: rolesOf.get(m.user_id) ?? [], timedOutUntil } };
      return can(subject, "view_channel", { ...baseCtx, channel: facts(m.user_id) });
    })
    .map((m) => ({ userId: m.user_id, displayName: m.display_name, nickname: m.nickname }));
}

/**
 * When `userId` became a reader of the channel as far as the server's records go: joining the
 * community, and for a private channel (or a DM / group DM) being added to it, whichever is
 * later. Gaining a role or an override that opens the channel does not start a new period (the
 * server keeps no history of roles); leaving and coming back does. Null: not a member.
 */
export async function findViewerSince(db: Executor, channel: ChannelRecord, userId: string): Promise<Date | null> {
  const added = channel.isPrivate || !channel.communityId
    ? await db.selectFrom("channel_members").select("added_at").where("channel_id", "=", channel.id).where("user_id", "=", userId).executeTakeFirst()
    : undefined;
  if (!channel.communityId) return added ? new Date(added.added_at) : null;
  const member = await db.selectFrom("community_members").select("joined_at").where("community_id", "=", channel.communityId).where("user_id", "=", userId).executeTakeFirst();
  if (!member) return null;
  const joined = new Date(member.joined_at);
  return added && new Date(added.added_at) > joined ? new Date(added.added_at) : joined;
}

export type ViewerSet = {
  /** Read before the list (access query): a change committed after it has a higher version. */
  viewerVersion: number;
  historyVisibility: "shared" | "joined";
  /** The caller's own start as a reader (findViewerSince). */
  viewerSince: Date | null;
  viewers: (ChannelViewer & { devices: string[] })[];
};

/**
 * Everything a sender encrypts for (GET /api/channels/{id}/members): the viewers with their
 * devices, and the viewer version they belong to. `channel` comes from the access check, whose
 * query read the version FIRST; the viewers and devices are read after it, so they are at least
 * as new as the version (a change committing in between makes the send refuse it, never accept a
 * stale list).
 */
export async function describeViewerSet(db: Executor, channel: ChannelRecord, selfId: string, now: Date): Promise<ViewerSet> {
  const viewers = await listChannelViewers(db, channel, now);
  const ids = viewers.map((v) => v.userId);
  const devices = ids.length ? await db.selectFrom("key_devices").select(["user_id", "device_id"]).where("user_id", "in", ids).orderBy("created_at").execute() : [];
  const byUser = new Map<string, string[]>();
  for (const d of devices) byUser.set(d.user_id, [...(byUser.get(d.user_id) ?? []), d.device_id]);
  return {
    viewerVersion: channel.viewerVersion,
    historyVisibility: channel.communityId ? channel.historyVisibility : "joined",
    viewerSince: await findViewerSince(db, channel, selfId),
    viewers: viewers.map((v) => ({ ...v, devices: byUser.get(v.userId) ?? [] })),
  };
}
