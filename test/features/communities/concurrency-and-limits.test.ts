/**
 * Races and scale: one-use invites under simultaneous joins, deleting a big community in one
 * transaction, the group/channel limits, DMs and blocks. Messages do not exist yet (messaging
 * issue), so "1000 messages" is stood in for by 1000 members plus 1000 rows in each other
 * child table (channels, invites, warnings, audit entries, reports, timeouts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity } from "./helpers.ts";
import { testPasswordHash } from "../../helpers/users.ts";
import { MAX_CHANNELS_PER_GROUP, MAX_GROUPS_PER_COMMUNITY } from "../../../src/features/channels/index.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await communityTestContext();
});
afterAll(() => ctx.close());

describe("concurrency", () => {
  test("two simultaneous joins through a one-use invite make one member", async () => {
    const p = await populatedCommunity(ctx, "Race");
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, { max_uses: 1 }), 201);
    const [a, b] = await Promise.all([client(ctx), client(ctx)]);
    const results = await Promise.all([a.call("POST", `/api/community-invites/${invite.code}/accept`), b.call("POST", `/api/community-invites/${invite.code}/accept`)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 404]);
    const members = await expectOk(p.owner.call("GET", `/api/communities/${p.communityId}/members`));
    expect(members.members).toHaveLength(5);
    const row = await ctx.database.db.selectFrom("community_invites").select("uses").where("id", "=", invite.id).executeTakeFirstOrThrow();
    expect(row.uses).toBe(1);
    // The same user twice at once through a multi-use invite: one membership, one use counted.
    const multi = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    const c2 = await client(ctx);
    const twice = await Promise.all([c2.call("POST", `/api/community-invites/${multi.code}/accept`), c2.call("POST", `/api/community-invites/${multi.code}/accept`)]);
    expect(twice.map((r) => r.status).sort()).toEqual([200, 409]);
    const used = await ctx.database.db.selectFrom("community_invites").select("uses").where("id", "=", multi.id).executeTakeFirstOrThrow();
    expect(used.uses).toBe(1);
  });

  test("two simultaneous group creations at 199 groups: one fits, one is refused", async () => {
    const p = await populatedCommunity(ctx, "Group race");
    await ctx.database.db.insertInto("groups").values(Array.from({ length: MAX_GROUPS_PER_COMMUNITY - 2 }, (_, i) => ({ id: Bun.randomUUIDv7(), community_id: p.communityId, name: `g${i}`, created_by: null }))).execute();
    const both = await Promise.all([p.owner.call("POST", "/api/groups", { community_id: p.communityId, name: "a" }), p.admin.call("POST", "/api/groups", { community_id: p.communityId, name: "b" })]);
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    const n = await ctx.database.db.selectFrom("groups").select(sql<number>`count(*)::int`.as("n")).where("community_id", "=", p.communityId).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(MAX_GROUPS_PER_COMMUNITY);
  });

  test("simultaneous get-or-create of one DM converges on one channel", async () => {
    const p = await populatedCommunity(ctx, "DM race");
    const [x, y] = await Promise.all([p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }), p.admin.call("POST", "/api/dms", { user_id: p.member.user.id })]);
    expect(x.body.channel_id).toBe(y.body.channel_id);
  });
});

describe("deleting a big community", () => {
  test("1000 members and 1000 rows per child table go in one transaction", async () => {
    const p = await populatedCommunity(ctx, "Big");
    const db = ctx.database.db;
    const cid = p.communityId;
    const hash = await testPasswordHash();
    const userIds = Array.from({ length: 1000 }, () => Bun.randomUUIDv7());
    for (let i = 0; i < userIds.length; i += 250) {
      const chunk = userIds.slice(i, i + 250);
      await db.insertInto("users").values(chunk.map((id, j) => ({ id, username: `big_${i + j}_${id.slice(-6)}`, email: `${id}@big.test`, password_hash: hash, display_name: `Big ${i + j}` }))).execute();
      await db.insertInto("community_members").values(chunk.map((user_id) => ({ community_id: cid, user_id, role: "member", nickname: null }))).execute();
    }
    const groupIds = Array.from({ length: 10 }, () => Bun.randomUUIDv7());
    await db.insertInto("groups").values(groupIds.map((id, i) => ({ id, community_id: cid, name: `g${i}`, created_by: p.owner.user.id }))).execute();
    const channelRows = Array.from({ length: 1000 }, (_, i) => ({ id: Bun.randomUUIDv7(), kind: "text", community_id: cid, group_id: groupIds[i % 10]!, name: `c${i}`, topic: null, created_by: p.owner.user.id }));
    for (let i = 0; i < 1000; i += 250) await db.insertInto("channels").values(channelRows.slice(i, i + 250)).execute();
    const now = new Date();
    for (let i = 0; i < 1000; i += 250) {
      const chunk = userIds.slice(i, i + 250);
      await db.insertInto("community_invites").values(chunk.map((u, j) => ({ id: Bun.randomUUIDv7(), community_id: cid, code: `big${i + j}x${u.slice(-8)}`, created_by: u }))).execute();
      await db.insertInto("community_warnings").values(chunk.map((u) => ({ id: Bun.randomUUIDv7(), community_id: cid, user_id: u, reason: "w", created_by: p.owner.user.id }))).execute();
      await db.insertInto("community_audit_log").values(chunk.map((u) => ({ id: Bun.randomUUIDv7(), community_id: cid, actor_id: p.owner.user.id, action: "member_warned", target_user_id: u, created_at: now }))).execute();
      await db.insertInto("reports").values(chunk.map((u) => ({ id: Bun.randomUUIDv7(), community_id: cid, reporter_id: u, target_type: "user", target_id: p.member.user.id, reason: "r" }))).execute();
      await db.insertInto("community_timeouts").values(chunk.map((u) => ({ community_id: cid, user_id: u, expires_at: new Date(Date.now() + 60_000) }))).execute();
      await db.insertInto("channel_members").values(chunk.map((u, j) => ({ channel_id: channelRows[i + j]!.id, user_id: u }))).execute();
    }
    const tables = ["community_members", "groups", "channels", "community_invites", "community_warnings", "community_audit_log", "reports", "community_timeouts"] as const;
    const count = async () => {
      const out: Record<string, number> = {};
      for (const t of tables) out[t] = Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(t)} where community_id = ${cid}`.execute(db)).rows[0]!.n);
      out.channel_members = Number((await sql<{ n: number }>`select count(*)::int as n from channel_members m join channels c on c.id = m.channel_id where c.community_id = ${cid}`.execute(db)).rows[0]!.n);
      return out;
    };
    const before = await count();
    expect(before.community_members).toBe(1004);
    expect(before.channels).toBe(1001);
    // A wrong confirmation changes nothing.
    expect((await p.owner.call("DELETE", `/api/communities/${cid}`, { confirm_name: "big" })).status).toBe(400);
    expect(await count()).toEqual(before);
    const started = performance.now();
    await expectOk(p.owner.call("DELETE", `/api/communities/${cid}`, { confirm_name: "Big" }), 204);
    const ms = performance.now() - started;
    const after = await count();
    expect(Object.values(after).every((n) => n === 0)).toBe(true);
    // Users themselves survive.
    const users = await db.selectFrom("users").select(sql<number>`count(*)::int`.as("n")).where("id", "in", userIds).executeTakeFirstOrThrow();
    expect(Number(users.n)).toBe(1000);
    expect(ms).toBeLessThan(10_000);
  });
});

describe("limits", () => {
  test(`${MAX_GROUPS_PER_COMMUNITY} groups per community, ${MAX_CHANNELS_PER_GROUP} channels per group`, async () => {
    const p = await populatedCommunity(ctx, "Limits");
    const db = ctx.database.db;
    const existing = await db.selectFrom("groups").select("id").where("community_id", "=", p.communityId).execute();
    await db.insertInto("groups").values(Array.from({ length: MAX_GROUPS_PER_COMMUNITY - existing.length }, (_, i) => ({ id: Bun.randomUUIDv7(), community_id: p.communityId, name: `g${i}`, created_by: null }))).execute();
    const over = await p.owner.call("POST", "/api/groups", { community_id: p.communityId, name: "one too many" });
    expect([over.status, over.body.error.code]).toEqual([409, "GROUP_LIMIT_REACHED"]);
    expect(over.body.error.message).toContain("200");
    await db.insertInto("channels").values(Array.from({ length: MAX_CHANNELS_PER_GROUP - 1 }, (_, i) => ({ id: Bun.randomUUIDv7(), kind: "text", community_id: p.communityId, group_id: p.groupId, name: `c${i}`, topic: null, created_by: null }))).execute();
    const tooMany = await p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "overflow" });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([409, "CHANNEL_LIMIT_REACHED"]);
    const longName = await p.owner.call("POST", "/api/communities", { name: "x".repeat(65) });
    expect([longName.status, longName.body.error.code]).toEqual([400, "INVALID_NAME"]);
  });
});

describe("DMs and blocks", () => {
  test("DM only with community mates (or allow-anyone); group DMs up to 10; blocks both ways", async () => {
    const p = await populatedCommunity(ctx, "DMs");
    const stranger = await client(ctx);
    const r = await p.member.call("POST", "/api/dms", { user_id: stranger.user.id });
    expect(r.status).toBe(404);
    await ctx.database.db.updateTable("users").set({ allow_dms_from_anyone: true }).where("id", "=", stranger.user.id).execute();
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: stranger.user.id }));
    const again = await expectOk(p.member.call("POST", "/api/dms", { user_id: stranger.user.id }));
    expect(again.channel_id).toBe(dm.channel_id);
    expect((await p.member.call("POST", "/api/dms", { user_id: p.member.user.id })).status).toBe(400);
    // Blocks: either direction stops a new DM.
    await expectOk(p.admin.call("POST", "/api/users/blocks", { user_id: p.member.user.id }), 204);
    expect((await p.member.call("POST", "/api/dms", { user_id: p.admin.user.id })).body.error.code).toBe("BLOCKED");
    expect((await p.admin.call("POST", "/api/dms", { user_id: p.member.user.id })).body.error.code).toBe("BLOCKED");
    const blocks = await expectOk(p.admin.call("GET", "/api/users/blocks"));
    expect(blocks.blocks.map((b: any) => b.user_id)).toEqual([p.member.user.id]);
    await expectOk(p.admin.call("DELETE", `/api/users/blocks/${p.member.user.id}`), 204);
    expect((await p.admin.call("DELETE", `/api/users/blocks/${p.member.user.id}`)).status).toBe(404);
    await expectOk(p.admin.call("POST", "/api/dms", { user_id: p.member.user.id }));
    // Group DMs.
    const mates = [p.admin, p.moderator, p.owner].map((x) => x.user.id);
    const group = await expectOk(p.member.call("POST", "/api/dms", { user_ids: mates }));
    expect(group.kind).toBe("group_dm");
    expect(group.participants).toHaveLength(4);
    const many = await Promise.all(Array.from({ length: 10 }, () => client(ctx)));
    await ctx.database.db.updateTable("users").set({ allow_dms_from_anyone: true }).where("id", "in", many.map((m) => m.user.id)).execute();
    const eleven = await p.member.call("POST", "/api/dms", { user_ids: many.map((m) => m.user.id) });
    expect([eleven.status, eleven.body.error.code]).toEqual([400, "GROUP_DM_LIMIT"]);
    await expectOk(p.member.call("POST", "/api/dms", { user_ids: many.slice(0, 9).map((m) => m.user.id) }));
    expect((await many[9]!.call("GET", `/api/dms/${group.channel_id}`)).status).toBe(404);
  });

  test("group DM: refused (403 BLOCKED, named, nothing written) when the creator and any listed person blocked each other, either way", async () => {
    const p = await populatedCommunity(ctx, "Group DM blocks");
    const countGroupDms = async () => Number((await ctx.database.db.selectFrom("channels").select((eb) => eb.fn.countAll<number>().as("n")).where("kind", "=", "group_dm").executeTakeFirstOrThrow()).n);
    const list = [p.admin, p.moderator, p.owner].map((x) => x.user.id);
    for (const direction of ["creator blocked a listed person", "a listed person blocked the creator"] as const) {
      if (direction === "creator blocked a listed person") await expectOk(p.member.call("POST", "/api/users/blocks", { user_id: p.moderator.user.id }), 204);
      else await expectOk(p.moderator.call("POST", "/api/users/blocks", { user_id: p.member.user.id }), 204);
      const before = await countGroupDms();
      const refused = await p.member.call("POST", "/api/dms", { user_ids: list });
      expect([refused.status, refused.body.error.code]).toEqual([403, "BLOCKED"]);
      expect(refused.body.error.message).toContain(p.moderator.user.displayName);
      expect(await countGroupDms()).toBe(before);
      if (direction === "creator blocked a listed person") await expectOk(p.member.call("DELETE", `/api/users/blocks/${p.moderator.user.id}`), 204);
      else await expectOk(p.moderator.call("DELETE", `/api/users/blocks/${p.member.user.id}`), 204);
    }
    // Without the block the same list works.
    expect((await expectOk(p.member.call("POST", "/api/dms", { user_ids: list }))).participants).toHaveLength(4);
  });
});
