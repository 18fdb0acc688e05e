/**
 * Invites in one step (issue 13 §8): with REGISTRATION_MODE=invite_only a community invite made by
 * the instance's owner or an administrator lets someone without an account register, and the new
 * account joins that community in the same transaction (one use spent: a one-use link makes one
 * account however many sign-ups race). An invite made by an ordinary member does not let anyone
 * register. The invite page's sign-in keeps the invite on the way to "Create an account".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { newAccount, postJson } from "../auth/helpers.ts";

let ctx: TestContext;
let owner: { headers: Record<string, string> };
let member: { id: string; headers: Record<string, string> };
let communityId = "";

beforeAll(async () => {
  ctx = await createTestContext({ env: { REGISTRATION_MODE: "invite_only" } });
  owner = await signIn(ctx, await createUser(ctx, { isOwner: true }));
  const community = await postJson(ctx, "/api/communities", { name: "Link club" }, owner.headers);
  communityId = community.body.id;
  const m = await createUser(ctx);
  member = { id: m.id, ...(await signIn(ctx, m)) };
  const invite = await postJson(ctx, `/api/communities/${communityId}/invites`, {}, owner.headers);
  expect((await postJson(ctx, `/api/community-invites/${invite.body.code}/accept`, {}, member.headers)).status).toBe(200);
}, 120_000);
afterAll(() => ctx.close());

async function communityInvite(headers: Record<string, string>, body: Record<string, unknown> = {}): Promise<string> {
  const r = await postJson(ctx, `/api/communities/${communityId}/invites`, body, headers);
  expect(r.status).toBe(201);
  return r.body.code;
}

async function isMember(userId: string): Promise<boolean> {
  const row = await ctx.database.db.selectFrom("community_members").select("user_id").where("community_id", "=", communityId).where("user_id", "=", userId).executeTakeFirst();
  return row !== undefined;
}

describe("registering with a community invite link on invite_only", () => {
  test("the owner's link creates the account and joins the community; its one use is then spent", async () => {
    const code = await communityInvite(owner.headers, { max_uses: 1 });
    const r = await postJson(ctx, "/api/auth/register", { ...newAccount(), invite_code: code });
    expect(r.status).toBe(201);
    expect(await isMember(r.body.user.id)).toBe(true);
    const again = await postJson(ctx, "/api/auth/register", { ...newAccount(), invite_code: code });
    expect(again.status).toBe(403);
    expect(again.body.error.code).toBe("INVITE_INVALID");
  });

  test("five sign-ups racing on a one-use link make exactly one account", async () => {
    const code = await communityInvite(owner.headers, { max_uses: 1 });
    const results = await Promise.all(Array.from({ length: 5 }, () => postJson(ctx, "/api/auth/register", { ...newAccount(), invite_code: code })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403]);
    const row = await ctx.database.db.selectFrom("community_invites").select("uses").where("code", "=", code).executeTakeFirstOrThrow();
    expect(row.uses).toBe(1);
  });

  test("a link made by an ordinary member lets existing accounts join but creates no account", async () => {
    const code = await communityInvite(member.headers);
    const r = await postJson(ctx, "/api/auth/register", { ...newAccount(), invite_code: code });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("INVITE_INVALID");
    const users = await ctx.database.db.selectFrom("community_invites").select("uses").where("code", "=", code).executeTakeFirstOrThrow();
    expect(users.uses).toBe(0);
  });

  test("a revoked link registers nobody", async () => {
    const created = await postJson(ctx, `/api/communities/${communityId}/invites`, {}, owner.headers);
    await ctx.request(`/api/communities/${communityId}/invites/${created.body.id}`, { method: "DELETE", headers: owner.headers });
    const r = await postJson(ctx, "/api/auth/register", { ...newAccount(), invite_code: created.body.code });
    expect(r.status).toBe(403);
  });

  test("the invite survives sign-in → 'Create an account', and the sign-up page keeps it", async () => {
    const code = await communityInvite(owner.headers);
    const invitePage = await ctx.request(`/invite/${code}`, { redirect: "manual" });
    expect(invitePage.status).toBeGreaterThanOrEqual(300);
    expect(invitePage.status).toBeLessThan(400);
    const login = new URL(invitePage.headers.get("location")!, "http://localhost");
    expect(login.pathname).toBe("/login");
    const loginHtml = await (await ctx.request(`${login.pathname}${login.search}`)).text();
    expect(loginHtml).toContain(`href="/register?invite=${code}"`);
    const registerHtml = await (await ctx.request(`/register?invite=${code}`)).text();
    expect(registerHtml).toContain(`value="${code}"`);
  });

  test("the invites settings page shows each link with a copy button and what it allows", async () => {
    await communityInvite(member.headers);
    const html = await (await ctx.request(`/c/${communityId}/settings/invites`, { headers: owner.headers })).text();
    expect(html).toContain("data-copy=");
    expect(html).toContain("Anyone with this link can join, creating an account on this server first if they have none");
    expect(html).toContain("People who already have an account on this server can join with this link");
  });
});
