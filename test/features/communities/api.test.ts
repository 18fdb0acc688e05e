import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Populated } from "./helpers.ts";
import { createTestContext } from "../../helpers/app.ts";
import { userOwnsCommunity } from "../../../src/features/communities/index.ts";
import { shareCommunityOrDm } from "../../../src/features/dms/index.ts";

let ctx: TestContext;
let c: Populated;
beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
});
afterAll(() => ctx.close());

describe("communities", () => {
  test("create makes the creator owner with a General group and #general", async () => {
    const me = await expectOk(c.owner.call("GET", `/api/communities/${c.communityId}`));
    expect(me.my_role).toBe("owner");
    const groups = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/groups`));
    expect(groups.groups.map((g: any) => g.name)).toEqual(["General"]);
    expect(groups.groups[0].channels.map((ch: any) => ch.name)).toEqual(["general"]);
    const mine = await expectOk(c.member.call("GET", "/api/communities"));
    expect(mine.communities.map((x: any) => x.id)).toContain(c.communityId);
    expect(await userOwnsCommunity(ctx.database.db, c.owner.user.id)).toBe(true);
    expect(await userOwnsCommunity(ctx.database.db, c.member.user.id)).toBe(false);
  });

  test("admin_only mode refuses ordinary users and lets instance admins through", async () => {
    const strict = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "admin_only" } });
    try {
      const plain = await client(strict);
      const admin = await client(strict, { isAdmin: true, adminPowers: [] });
      const r = await plain.call("POST", "/api/communities", { name: "Nope" });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe("COMMUNITY_CREATION_RESTRICTED");
      await expectOk(admin.call("POST", "/api/communities", { name: "Yes" }), 201);
    } finally {
      await strict.close();
    }
  });

  test("members are listed by rank then name, paginated", async () => {
    const all = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/members`));
    expect(all.members.map((m: any) => m.role)).toEqual(["owner", "admin", "moderator", "member"]);
    const page = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/members?limit=2&offset=2`));
    expect(page.members.map((m: any) => m.user_id)).toEqual([c.moderator.user.id, c.member.user.id]);
  });

  test("settings: only admins edit; bad policy values are refused clearly", async () => {
    expect((await c.member.call("PATCH", `/api/communities/${c.communityId}`, { name: "x" })).status).toBe(403);
    const bad = await c.admin.call("PATCH", `/api/communities/${c.communityId}`, { who_can_invite: "nobody" });
    expect(bad.status).toBe(400);
    const ok = await expectOk(c.admin.call("PATCH", `/api/communities/${c.communityId}`, { who_can_create_groups: "moderator", discoverable: true }));
    expect(ok.who_can_create_groups).toBe("moderator");
    await expectOk(c.moderator.call("POST", "/api/groups", { community_id: c.communityId, name: "Mods made this" }), 201);
    expect((await c.member.call("POST", "/api/groups", { community_id: c.communityId, name: "Nope" })).status).toBe(403);
  });

  test("invites: max uses, expiry range, revoke, preview", async () => {
    const inv = await expectOk(c.member.call("POST", `/api/communities/${c.communityId}/invites`, { max_uses: 1, expires_in_hours: 1 }), 201);
    expect(inv.code).toMatch(/^[A-Za-z0-9]{12}$/);
    expect((await c.member.call("POST", `/api/communities/${c.communityId}/invites`, { expires_in_hours: 8761 })).status).toBe(400);
    expect((await c.member.call("POST", `/api/communities/${c.communityId}/invites`, { expires_in_hours: 0 })).status).toBe(400);
    const joiner = await client(ctx);
    const preview = await expectOk(joiner.call("GET", `/api/community-invites/${inv.code}`));
    expect(preview.community_name).toBe("Test community");
    expect(preview.member_count).toBe(4);
    await expectOk(joiner.call("POST", `/api/community-invites/${inv.code}/accept`));
    const late = await client(ctx);
    expect((await late.call("POST", `/api/community-invites/${inv.code}/accept`)).status).toBe(404);
    const inv2 = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
    expect((await c.member.call("DELETE", `/api/communities/${c.communityId}/invites/${inv2.id}`)).status).toBe(403);
    await expectOk(c.admin.call("DELETE", `/api/communities/${c.communityId}/invites/${inv2.id}`), 204);
    expect((await late.call("GET", `/api/community-invites/${inv2.code}`)).status).toBe(404);
    expect((await joiner.call("POST", `/api/community-invites/${inv.code}/accept`)).status).toBe(409);
  });

  test("discoverable communities are listed and joinable without an invite; others stay hidden", async () => {
    const p = await populatedCommunity(ctx, "Open house");
    const visitor = await client(ctx);
    expect((await expectOk(visitor.call("GET", "/api/communities/discover"))).communities.map((x: any) => x.id)).not.toContain(p.communityId);
    expect((await visitor.call("POST", `/api/communities/${p.communityId}/join`)).status).toBe(404);
    await expectOk(p.admin.call("PATCH", `/api/communities/${p.communityId}`, { discoverable: true }));
    const listed = await expectOk(visitor.call("GET", "/api/communities/discover"));
    expect(listed.communities.find((x: any) => x.id === p.communityId).member_count).toBe(4);
    await expectOk(visitor.call("POST", `/api/communities/${p.communityId}/join`));
    expect((await visitor.call("POST", `/api/communities/${p.communityId}/join`)).status).toBe(409);
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/bans/${visitor.user.id}`, {}), 204);
    expect((await expectOk(visitor.call("GET", "/api/communities/discover"))).communities.map((x: any) => x.id)).not.toContain(p.communityId);
    expect((await visitor.call("POST", `/api/communities/${p.communityId}/join`)).body.error.code).toBe("BANNED");
  });

  test("owner cannot leave; transfer then leave works; shareCommunityOrDm follows membership", async () => {
    const p = await populatedCommunity(ctx, "Transfer me");
    const r = await p.owner.call("POST", `/api/communities/${p.communityId}/leave`);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("OWNER_CANNOT_LEAVE");
    await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/transfer-ownership`, { new_owner_id: p.admin.user.id }));
    await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/leave`), 204);
    const info = await expectOk(p.admin.call("GET", `/api/communities/${p.communityId}`));
    expect(info.owner_id).toBe(p.admin.user.id);
    expect((await p.owner.call("GET", `/api/communities/${p.communityId}`)).status).toBe(404);
    expect(await shareCommunityOrDm(ctx.database.db, p.admin.user.id, p.member.user.id)).toBe(true);
    expect(await shareCommunityOrDm(ctx.database.db, p.admin.user.id, p.outsider.user.id)).toBe(false);
  });

  test("the instance owner can recover a community they are not in", async () => {
    const p = await populatedCommunity(ctx, "Abandoned");
    const root = await client(ctx, { isOwner: true });
    await expectOk(root.call("GET", `/api/communities/${p.communityId}`));
    await expectOk(root.call("POST", `/api/communities/${p.communityId}/transfer-ownership`, { new_owner_id: root.user.id }));
    const info = await expectOk(root.call("GET", `/api/communities/${p.communityId}`));
    expect(info.owner_id).toBe(root.user.id);
    expect(info.my_role).toBe("owner");
  });

  test("delete needs the owner and the exact name", async () => {
    const p = await populatedCommunity(ctx, "Doomed");
    expect((await p.admin.call("DELETE", `/api/communities/${p.communityId}`, { confirm_name: "Doomed" })).status).toBe(403);
    const wrong = await p.owner.call("DELETE", `/api/communities/${p.communityId}`, { confirm_name: "doomed" });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe("CONFIRMATION_MISMATCH");
    await expectOk(p.owner.call("DELETE", `/api/communities/${p.communityId}`, { confirm_name: "Doomed" }), 204);
    expect((await p.owner.call("GET", `/api/communities/${p.communityId}`)).status).toBe(404);
    expect((await p.member.call("GET", `/api/channels/${p.generalChannelId}`)).status).toBe(404);
  });
});

describe("groups and channels", () => {
  test("channel settings within limits; clear errors beyond", async () => {
    const ch = await expectOk(c.admin.call("POST", `/api/groups/${c.groupId}/channels`, { name: "news", kind: "announcement", topic: "t", slow_mode_seconds: 30, message_ttl_seconds: 86400 }), 201);
    expect(ch.kind).toBe("announcement");
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "" }, "INVALID_NAME"],
      [{ name: "x".repeat(65) }, "INVALID_NAME"],
      [{ topic: "x".repeat(513) }, "INVALID_TOPIC"],
      [{ slow_mode_seconds: 86401 }, "INVALID_SLOW_MODE_SECONDS"],
      [{ slow_mode_seconds: -1 }, "INVALID_SLOW_MODE_SECONDS"],
      [{ message_ttl_seconds: 30 * 86400 + 1 }, "INVALID_MESSAGE_TTL_SECONDS"],
      [{ kind: "gallery" }, "VALIDATION_ERROR"],
    ];
    for (const [patch, code] of cases) {
      const r = await c.admin.call("PATCH", `/api/channels/${ch.id}`, patch);
      expect([r.status, r.body.error.code]).toEqual([400, code]);
      expect(r.body.error.message.length).toBeGreaterThan(10);
    }
    const updated = await expectOk(c.admin.call("PATCH", `/api/channels/${ch.id}`, { read_only: true, archived: true, topic: "x".repeat(512), slow_mode_seconds: 86400, message_ttl_seconds: 30 * 86400 }));
    expect([updated.read_only, updated.archived, updated.slow_mode_seconds]).toEqual([true, true, 86400]);
    expect((await c.member.call("PATCH", `/api/channels/${ch.id}`, { topic: "mine" })).status).toBe(403);
  });

  test("private channels are invisible (404) to members not in them", async () => {
    const ch = await expectOk(c.admin.call("POST", `/api/groups/${c.groupId}/channels`, { name: "secret", is_private: true }), 201);
    expect((await c.member.call("GET", `/api/channels/${ch.id}`)).status).toBe(404);
    const groups = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/groups`));
    expect(groups.groups.flatMap((g: any) => g.channels.map((x: any) => x.name))).not.toContain("secret");
    await expectOk(c.admin.call("POST", `/api/channels/${ch.id}/members`, { user_id: c.member.user.id }), 204);
    await expectOk(c.member.call("GET", `/api/channels/${ch.id}`));
  });
});

describe("custom roles", () => {
  test("renaming a role to another role's name (any case) is 409 ROLE_EXISTS, not a constraint error; keeping its own name is fine", async () => {
    const cid = c.communityId;
    const first = await expectOk(c.owner.call("POST", `/api/communities/${cid}/roles`, { name: "Editors", permissions: [] }), 201);
    const second = await expectOk(c.owner.call("POST", `/api/communities/${cid}/roles`, { name: "Readers", permissions: [] }), 201);
    const clash = await c.owner.call("PATCH", `/api/communities/${cid}/roles/${second.id}`, { name: "editors" });
    expect([clash.status, clash.body.error.code]).toEqual([409, "ROLE_EXISTS"]);
    expect((await c.owner.call("PATCH", `/api/communities/${cid}/roles/${first.id}`, { name: "EDITORS" })).status).toBe(204);
    const { roles } = (await expectOk(c.owner.call("GET", `/api/communities/${cid}/roles`))) as { roles: { id: string; name: string }[] };
    expect(roles.find((r) => r.id === second.id)?.name).toBe("Readers");
  });
});
