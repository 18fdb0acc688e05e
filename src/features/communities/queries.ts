/** Community reads shared by the API and the pages. */
import { sql } from "kysely";
import type { Executor } from "../../db/tx.ts";
import { memberRankSql } from "../permissions/index.ts";
import { publicImageUrl } from "../../shared/image-limits.ts";

/** iconUrl: the community icon (docs/profiles.md), or null (initials on the rail). */
export type CommunitySummary = { id: string; name: string; description: string | null; role: string; memberCount: number; iconUrl: string | null };

export async function listCommunitiesOf(db: Executor, userId: string): Promise<CommunitySummary[]> {
  const rows = await db
    .selectFrom("community_members as m")
    .innerJoin("communities as c", "c.id", "m.community_id")
    .leftJoin("images as ic", "ic.id", "c.icon_image_id")
    .select(["c.id", "c.name", "c.description", "m.role", "ic.id as icon_id", "ic.sha256 as icon_sha"])
    .select(sql<number>`(select count(*)::int from community_members x where x.community_id = c.id)`.as("member_count"))
    .where("m.user_id", "=", userId)
    .orderBy(sql`lower(c.name)`)
    .orderBy("c.id")
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, role: r.role, memberCount: Number(r.member_count), iconUrl: r.icon_id && r.icon_sha ? publicImageUrl(r.icon_id, r.icon_sha) : null }));
}

export async function countMembers(db: Executor, communityId: string): Promise<number> {
  const row = await db.selectFrom("community_members").select(sql<number>`count(*)::int`.as("n")).where("community_id", "=", communityId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export type MemberView = {
  userId: string;
  /** The uploaded avatar's address, or null (initials). */
  avatarUrl: string | null;
  username: string;
  displayName: string;
  nickname: string | null;
  role: string;
  customRoles: { id: string; name: string }[];
  joinedAt: Date;
  timedOutUntil: Date | null;
};


/** Sorted by rank (base role, then highest custom role), then by name; paginated. */
export async function listMembers(db: Executor, communityId: string, opts: { limit: number; offset: number; now: Date }): Promise<MemberView[]> {
  const q = db
    .selectFrom("community_members as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .leftJoin("community_timeouts as t", (j) => j.onRef("t.community_id", "=", "m.community_id").onRef("t.user_id", "=", "m.user_id"))
    // The avatar (docs/profiles.md): every member may see their community mates' avatars.
    .leftJoin("images as av", "av.id", "u.avatar_image_id")
    .select(["m.user_id", "u.username", "u.display_name", "m.nickname", "m.role", "m.joined_at", "t.expires_at", "av.id as avatar_id", "av.sha256 as avatar_sha"])
    .where("m.community_id", "=", communityId)
    .orderBy(memberRankSql("m"), "desc")
    .orderBy(sql`lower(coalesce(m.nickname, u.display_name))`)
    .orderBy("m.user_id")
    .limit(opts.limit)
    .offset(opts.offset);
  const rows = await q.execute();
  const ids = rows.map((r) => r.user_id);
  const roles = ids.length
    ? await db
        .selectFrom("community_member_roles as mr")
        .innerJoin("community_roles as r", "r.id", "mr.role_id")
        .select(["mr.user_id", "r.id", "r.name", "r.position"])
        .where("mr.community_id", "=", communityId)
        .where("mr.user_id", "in", ids)
        .orderBy("r.position", "desc")
        .execute()
    : [];
  return rows.map((r) => ({
    userId: r.user_id,
    username: r.username,
    displayName: r.display_name,
    nickname: r.nickname,
    avatarUrl: r.avatar_id && r.avatar_sha ? publicImageUrl(r.avatar_id, r.avatar_sha) : null,
    role: r.role,
    customRoles: roles.filter((x) => x.user_id === r.user_id).map((x) => ({ id: x.id, name: x.name })),
    joinedAt: r.joined_at,
    timedOutUntil: r.expires_at && r.expires_at.getTime() > opts.now.getTime() ? r.expires_at : null,
  }));
}

export async function listCommunityChannelIds(db: Executor, communityId: string): Promise<string[]> {
  const rows = await db.selectFrom("channels").select("id").where("community_id", "=", communityId).execute();
  return rows.map((r) => r.id);
}
