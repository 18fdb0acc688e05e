/**
 * The admin area's communities list (power `directory`, docs/admin.md "Communities"): every
 * community of the instance with its owner, members, channels, messages and file storage, for an
 * operator who needs to find one (a report, an owner who left). What it shows is metadata only:
 * counts and sizes, never content. Acting on a community is the owner's recovery on the
 * community's own settings page, which the instance owner can open (docs/communities.md).
 */
import { sql } from "kysely";
import type { Executor } from "../../db/tx.ts";
import { likePattern } from "./users.ts";

export const COMMUNITIES_PAGE = 50;

export type AdminCommunity = {
  id: string;
  name: string;
  ownerId: string;
  ownerName: string | null;
  ownerUsername: string | null;
  members: number;
  channels: number;
  messages: number;
  storageBytes: number;
  createdAt: Date;
};

/** Newest first; `q` matches the name or the owner's username, as plain text (≤ 100 characters). */
export async function listCommunities(db: Executor, input: { q?: string; page?: number }): Promise<{ communities: AdminCommunity[]; page: number; hasMore: boolean }> {
  const page = Math.max(1, input.page ?? 1);
  const q = (input.q ?? "").trim();
  let query = db
    .selectFrom("communities as c")
    .leftJoin("users as o", "o.id", "c.owner_id")
    .select([
      "c.id", "c.name", "c.owner_id", "o.display_name as owner_name", "o.username as owner_username", "c.created_at",
      sql<string>`(select count(*) from community_members m where m.community_id = c.id)`.as("members"),
      sql<string>`(select count(*) from channels ch where ch.community_id = c.id)`.as("channels"),
      sql<string>`(select count(*) from messages msg join channels ch on ch.id = msg.channel_id where ch.community_id = c.id)`.as("messages"),
      sql<string>`(select coalesce(sum(f.size), 0) from files f join channels ch on ch.id = f.channel_id where ch.community_id = c.id)`.as("storage"),
    ])
    .orderBy("c.created_at", "desc")
    .orderBy("c.id", "desc")
    .limit(COMMUNITIES_PAGE + 1)
    .offset((page - 1) * COMMUNITIES_PAGE);
  if (q) {
    const pattern = likePattern(q.toLowerCase()); // plain text: % and _ are literal
    query = query.where((eb) => eb.or([eb(eb.fn("lower", ["c.name"]), "like", pattern), eb(eb.fn("lower", ["o.username"]), "like", pattern)]));
  }
  const rows = await query.execute();
  return {
    communities: rows.slice(0, COMMUNITIES_PAGE).map((r) => ({
      id: r.id, name: r.name, ownerId: r.owner_id, ownerName: r.owner_name, ownerUsername: r.owner_username,
      members: Number(r.members), channels: Number(r.channels), messages: Number(r.messages), storageBytes: Number(r.storage), createdAt: r.created_at,
    })),
    page,
    hasMore: rows.length > COMMUNITIES_PAGE,
  };
}
