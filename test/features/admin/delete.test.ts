/**
 * Deleting a user as an instance admin (issue 15 §1, docs/admin.md "Delete"): a community owner
 * without heirs is refused with the list (409 OWNED_COMMUNITIES_NEED_HEIR) and nothing changes;
 * a wrong heir rolls back every transfer already made (one transaction); with heirs, ownership
 * moves, the socket closes, sessions and devices go, their messages stay as "Deleted user" in
 * the API and the page; audited once. The page's form, its confirmation and its errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, signIn } from "../../helpers/users.ts";
import { connectWithToken, listen } from "../../helpers/ws.ts";
import { client, expectOk, messagingContext, populatedCommunity, sendBody, type Client } from "../messages/helpers.ts";

let ctx: TestContext;
let usersAdmin: Client;

beforeAll(async () => {
  ctx = await messagingContext();
  usersAdmin = await client(ctx, { isAdmin: true, adminPowers: ["users"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

const ownerOf = async (communityId: string) => (await ctx.database.db.selectFrom("communities").select("owner_id").where("id", "=", communityId).executeTakeFirstOrThrow()).owner_id;

describe("deleting a community owner", () => {
  test("without heirs: 409 with the list, nothing changes; a wrong heir rolls every transfer back", async () => {
    const a = await populatedCommunity(ctx, "Alpha");
    // The same owner owns a second community, with one other member.
    const beta = await expectOk(a.owner.call("POST", "/api/communities", { name: "Beta <b>" }), 201);
    const invite = await expectOk(a.owner.call("POST", `/api/communities/${beta.id}/invites`, {}), 201);
    await expectOk(a.member.call("POST", `/api/community-invites/${invite.code}/accept`));

    const plan = await expectOk(usersAdmin.call("GET", `/api/admin/users/${a.owner.user.id}/deletion-plan`));
    expect(plan.communities.map((c: any) => c.name).sort()).toEqual(["Alpha", "Beta <b>"]);
    const alphaPlan = plan.communities.find((c: any) => c.id === a.communityId);
    expect(alphaPlan.member_count).toBe(4);
    expect(alphaPlan.heir_candidates.map((m: any) => m.id)).not.toContain(a.owner.user.id);

    const refused = await usersAdmin.call("DELETE", `/api/admin/users/${a.owner.user.id}`, {});
    expect([refused.status, refused.body.error.code]).toEqual([409, "OWNED_COMMUNITIES_NEED_HEIR"]);
    expect(refused.body.error.communities.map((c: any) => c.id).sort()).toEqual([a.communityId, beta.id].sort());

    // One heir fine, the other not a member of Beta: the whole deletion rolls back, Alpha included.
    const wrong = await usersAdmin.call("DELETE", `/api/admin/users/${a.owner.user.id}`, { heirs: [{ community_id: a.communityId, heir_id: a.admin.user.id }, { community_id: beta.id, heir_id: a.outsider.user.id }] });
    expect([wrong.status, wrong.body.error.code]).toEqual([400, "HEIR_NOT_MEMBER"]);
    expect(await ownerOf(a.communityId)).toBe(a.owner.user.id);
    expect(await ownerOf(beta.id)).toBe(a.owner.user.id);
    expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", a.owner.user.id).executeTakeFirst()).toBeDefined();
    expect((await a.owner.call("GET", "/api/account/me")).status).toBe(200);
    const audits = await ctx.database.db.selectFrom("audit_log").select("id").where("action", "=", "user_deleted").where("target_id", "=", a.owner.user.id).execute();
    expect(audits).toEqual([]);
  });

  test("with heirs: ownership moves, the socket closes, sessions and devices go, messages stay as Deleted user; audited once", async () => {
    const p = await populatedCommunity(ctx, "Gamma");
    const sent = await expectOk(p.owner.call("POST", `/api/channels/${p.generalChannelId}/messages`, sendBody()), 201);
    const { ws } = await listen(ctx);
    const session = await signIn(ctx, p.owner.user);
    const socket = await connectWithToken(ws, session.accessToken);

    const r = await ctx.request(`/api/admin/users/${p.owner.user.id}`, {
      method: "DELETE",
      headers: { ...usersAdmin.headers, "content-type": "application/json", "x-forwarded-for": "203.0.113.7" },
      body: JSON.stringify({ heirs: [{ community_id: p.communityId, heir_id: p.moderator.user.id }] }),
    });
    expect(r.status).toBe(204);
    expect((await socket.closed).code).toBeGreaterThanOrEqual(4000);
    expect((await p.owner.call("GET", "/api/account/me")).status).toBe(401);
    expect(await ownerOf(p.communityId)).toBe(p.moderator.user.id);
    const role = await ctx.database.db.selectFrom("community_members").select("role").where("community_id", "=", p.communityId).where("user_id", "=", p.moderator.user.id).executeTakeFirstOrThrow();
    expect(role.role).toBe("owner");
    const db = ctx.database.db;
    expect(await db.selectFrom("key_devices").select("device_id").where("user_id", "=", p.owner.user.id).execute()).toEqual([]);
    expect(await db.selectFrom("sessions").select("id").where("user_id", "=", p.owner.user.id).execute()).toEqual([]);

    // Their message stays, with no author: the API says so and the page names "Deleted user".
    const history = await expectOk(p.member.call("GET", `/api/channels/${p.generalChannelId}/messages`));
    const kept = history.messages.find((m: any) => m.id === sent.message.id);
    expect(kept).toBeDefined();
    expect([kept.sender_id, kept.sender_name]).toEqual([null, null]);
    const pageHtml = await (await ctx.request(`/c/${p.communityId}/ch/${p.generalChannelId}`, { headers: (await cookieSignIn(ctx, p.member.user)).headers })).text();
    expect(pageHtml).toContain("Deleted user");
    expect(pageHtml).not.toContain(p.owner.user.displayName);

    const audits = await db.selectFrom("audit_log").selectAll().where("action", "=", "user_deleted").where("target_id", "=", p.owner.user.id).execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actor_id).toBe(usersAdmin.user.id);
    expect(audits[0]!.ip).not.toBeNull();
    expect(audits[0]!.metadata).toMatchObject({ username: p.owner.user.username, transfers: [{ community_id: p.communityId, heir_id: p.moderator.user.id }] });
    const communityAudit = await db.selectFrom("community_audit_log").select(["actor_id", "target_user_id"]).where("community_id", "=", p.communityId).where("action", "=", "ownership_transferred").execute();
    expect(communityAudit).toEqual([{ actor_id: usersAdmin.user.id, target_user_id: p.moderator.user.id }]);
    // Gone: a second deletion is a 404.
    expect((await usersAdmin.call("DELETE", `/api/admin/users/${p.owner.user.id}`, {})).status).toBe(404);
  });

  test("a member who owns nothing is deleted without heirs; target rules hold", async () => {
    const plain = await client(ctx);
    await expectOk(usersAdmin.call("DELETE", `/api/admin/users/${plain.user.id}`), 204);
    expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", plain.user.id).executeTakeFirst()).toBeUndefined();
    const self = await usersAdmin.call("DELETE", `/api/admin/users/${usersAdmin.user.id}`);
    expect([self.status, self.body.error.code]).toEqual([403, "ADMIN_TARGET_FORBIDDEN"]);
    const otherAdmin = await client(ctx, { isAdmin: true, adminPowers: ["invites"] });
    expect((await usersAdmin.call("DELETE", `/api/admin/users/${otherAdmin.user.id}`)).status).toBe(403);
    expect((await usersAdmin.call("DELETE", `/api/admin/users/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("the page", () => {
  test("one heir select per owned community, a confirmation naming what happens, errors where the admin acted, escaped names", async () => {
    const p = await populatedCommunity(ctx, "<script>alert(1)</script> Delta");
    const cookies = (await cookieSignIn(ctx, usersAdmin.user)).headers;
    const html = await (await ctx.request(`/admin/users/${p.owner.user.id}`, { headers: cookies })).text();
    expect(html).toContain(`value="${p.communityId}:${p.admin.user.id}"`);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; Delta");
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toMatch(/data-confirm-detail="[^"]*Their messages stay, shown as “Deleted user”/);
    const form = { "content-type": "application/x-www-form-urlencoded", ...cookies };
    const missing = await ctx.request(`/admin/users/${p.owner.user.id}/delete`, { method: "POST", headers: form, body: "" });
    expect(missing.status).toBe(422);
    expect(await missing.text()).toContain("choose an heir");
    const done = await ctx.request(`/admin/users/${p.owner.user.id}/delete`, { method: "POST", headers: form, body: `heirs=${encodeURIComponent(`${p.communityId}:${p.admin.user.id}`)}` });
    expect([done.status, done.headers.get("location")]).toEqual([303, "/admin/users?saved=deleted"]);
    expect(await ownerOf(p.communityId)).toBe(p.admin.user.id);
  });
});
