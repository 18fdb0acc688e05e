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
