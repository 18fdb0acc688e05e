/**
 * The admin users tab (issue 15 §1, docs/admin.md): the target rules (self, owner, another admin), suspension end to end (sessions end, the socket
 * closes, sign-in answers ACCOUNT_SUSPENDED with the reason, audited once with reason and IP),
 * sign-outs, search and filters, and hostile names escaped on the pages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, TEST_PASSWORD, type TestUser } from "../../helpers/users.ts";
import { connectWithToken, listen } from "../../helpers/ws.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let owner: Client;
let usersAdmin: Client;

beforeAll(async () => {
  ctx = await communityTestContext();
  owner = await client(ctx, { isOwner: true });
  usersAdmin = await client(ctx, { isAdmin: true, adminPowers: ["users"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
  const res = await ctx.request(path, { method, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: parsed, text };
};

// The power matrix over every route of the tab (and of the whole admin area) is power-matrix.test.ts.

describe("target rules", () => {
  test("nobody acts on themselves or the owner; only the owner acts on another admin; unknown ids 404", async () => {
    const otherAdmin = await createUser(ctx, { isAdmin: true, adminPowers: ["invites"] });
    const cases: [Client, string, number][] = [
      [usersAdmin, usersAdmin.user.id, 403],
      [usersAdmin, owner.user.id, 403],
      [usersAdmin, otherAdmin.id, 403],
      [owner, owner.user.id, 403],
    ];
    for (const [actor, target, status] of cases) {
      for (const action of ["suspend", "unsuspend", "end-sessions"]) {
        const r = await call(actor.headers, "POST", `/api/admin/users/${target}/${action}`, action === "suspend" ? { reason: "x" } : undefined);
        expect([action, target, r.status, r.body.error.code]).toEqual([action, target, status, "ADMIN_TARGET_FORBIDDEN"]);
      }
    }
    const byOwner = await call(owner.headers, "POST", `/api/admin/users/${otherAdmin.id}/suspend`, { reason: "owner may" });
    expect(byOwner.status).toBe(204);
    for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
      const r = await call(usersAdmin.headers, "GET", `/api/admin/users/${id}`);
      expect([400, 404]).toContain(r.status);
    }
    const unknown = await call(usersAdmin.headers, "POST", `/api/admin/users/${crypto.randomUUID()}/suspend`, { reason: "x" });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "USER_NOT_FOUND"]);
  });
});

describe("suspension", () => {
  test("ends sessions, closes the socket, sign-in answers ACCOUNT_SUSPENDED; audited once with reason and IP; unsuspend lets them in", async () => {
    const { ws } = await listen(ctx);
    const bob = await createUser(ctx);
    const session = await signIn(ctx, bob);
    const socket = await connectWithToken(ws, session.accessToken);
    const noReason = await call(usersAdmin.headers, "POST", `/api/admin/users/${bob.id}/suspend`, { reason: "   " });
    expect([noReason.status, noReason.body.error.code]).toEqual([400, "INVALID_REASON"]);
    const r = await ctx.request(`/api/admin/users/${bob.id}/suspend`, { method: "POST", headers: { ...usersAdmin.headers, "content-type": "application/json", "x-forwarded-for": "203.0.113.9" }, body: JSON.stringify({ reason: "spam in #general" }) });
    expect(r.status).toBe(204);
    const closed = await socket.closed;
    expect(closed.code).toBeGreaterThanOrEqual(4000);
    expect((await call(session.headers, "GET", "/api/account/me")).status).toBe(401);
    const login = await call({}, "POST", "/api/auth/login", { username: bob.username, password: TEST_PASSWORD });
    expect([login.status, login.body.error.code]).toEqual([403, "ACCOUNT_SUSPENDED"]);
    const audit = await ctx.database.db.selectFrom("audit_log").selectAll().where("action", "=", "user_suspended").where("target_id", "=", bob.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(usersAdmin.user.id);
    expect(audit[0]!.metadata).toMatchObject({ reason: "spam in #general" });
    expect(audit[0]!.ip).not.toBeNull();
    const detail = await expectOk(usersAdmin.call("GET", `/api/admin/users/${bob.id}`));
    expect(detail.suspended_reason).toBe("spam in #general");
    expect(detail.sessions).toEqual([]);
    await expectOk(usersAdmin.call("POST", `/api/admin/users/${bob.id}/unsuspend`), 204);
    expect((await call({}, "POST", "/api/auth/login", { username: bob.username, password: TEST_PASSWORD })).status).toBe(200);
  });
});

describe("sign-outs", () => {
  test("a user everywhere; everyone except the acting admin", async () => {
    const carol = await createUser(ctx);
    const s1 = await signIn(ctx, carol);
    await signIn(ctx, carol);
    const ended = await expectOk(usersAdmin.call("POST", `/api/admin/users/${carol.id}/end-sessions`));
    expect(ended.revoked_count).toBe(2);
    expect((await call(s1.headers, "GET", "/api/account/me")).status).toBe(401);
    const dave = await signIn(ctx, await createUser(ctx));
    const all = await expectOk(owner.call("POST", "/api/admin/sessions/end-all"));
    expect(all.revoked_count).toBeGreaterThan(0);
    expect((await call(dave.headers, "GET", "/api/account/me")).status).toBe(401);
    expect((await call(owner.headers, "GET", "/api/account/me")).status).toBe(200);
    // The other admins were signed out too: sign them in again for the tests below.
    const h = (await signIn(ctx, usersAdmin.user)).headers;
    usersAdmin = { user: usersAdmin.user, headers: h, call: (method, path, body) => call(h, method, path, body) };
    expect((await call(h, "GET", "/api/admin/users")).status).toBe(200);
  });
});

describe("list and search", () => {
  let found: TestUser;
  beforeAll(async () => {
    found = await createUser(ctx, { username: `needle_${Date.now().toString(36)}`, displayName: "<img src=x onerror=alert(1)> Needle", email: "needle@example.test" });
  });

  test("by username, display name and email, case-insensitive; % and _ are literal; filters", async () => {
    for (const q of [found.username.toUpperCase(), "NEEDLE", "needle@example"]) {
      const r = await expectOk(usersAdmin.call("GET", `/api/admin/users?q=${encodeURIComponent(q)}`));
      expect(r.users.map((u: any) => u.id)).toContain(found.id);
    }
    const pct = await expectOk(usersAdmin.call("GET", `/api/admin/users?q=${encodeURIComponent("%")}`));
    expect(pct.users).toEqual([]);
    const admins = await expectOk(usersAdmin.call("GET", "/api/admin/users?filter=admins"));
    expect(admins.users.every((u: any) => u.is_admin || u.is_owner)).toBe(true);
    expect(admins.users.some((u: any) => u.id === owner.user.id)).toBe(true);
    const never = await expectOk(usersAdmin.call("GET", "/api/admin/users?filter=never_signed_in"));
    expect(never.users.some((u: any) => u.id === found.id)).toBe(true);
    const bad = await call(usersAdmin.headers, "GET", "/api/admin/users?filter=everyone-ish");
    expect(bad.status).toBe(400);
  });

  test("pages of 50 with has_more", async () => {
    for (let i = 0; i < 51; i++) await createUser(ctx);
    const first = await expectOk(usersAdmin.call("GET", "/api/admin/users"));
    expect(first.users).toHaveLength(50);
    expect(first.has_more).toBe(true);
    const second = await expectOk(usersAdmin.call("GET", "/api/admin/users?page=2"));
    expect(second.users.length).toBeGreaterThan(0);
    expect(second.users.some((u: any) => first.users.some((f: any) => f.id === u.id))).toBe(false);
  });

  test("pages escape hostile names and say why an action is not offered", async () => {
    const cookies = (await cookieSignIn(ctx, usersAdmin.user)).headers;
    const list = await (await ctx.request(`/admin/users?q=${encodeURIComponent(found.username)}`, { headers: cookies })).text();
    expect(list).toContain("&lt;img src=x onerror=alert(1)&gt; Needle");
    expect(list).not.toContain("<img src=x");
    const ownerPage = await (await ctx.request(`/admin/users/${owner.user.id}`, { headers: cookies })).text();
    expect(ownerPage).toContain("Nobody can act on the instance owner");
    expect(ownerPage).not.toContain(`/admin/users/${owner.user.id}/suspend`);
    const emptyReason = await ctx.request(`/admin/users/${found.id}/suspend`, { method: "POST", headers: { ...cookies, "content-type": "application/x-www-form-urlencoded" }, body: "reason=" });
    expect(emptyReason.status).toBe(422);
    expect(await emptyReason.text()).toContain("Give a reason");
    const suspended = await ctx.request(`/admin/users/${found.id}/suspend`, { method: "POST", headers: { ...cookies, "content-type": "application/x-www-form-urlencoded" }, body: "reason=testing" });
    expect(suspended.status).toBe(303);
    expect(suspended.headers.get("location")).toBe(`/admin/users/${found.id}?saved=suspended`);
  });
});
