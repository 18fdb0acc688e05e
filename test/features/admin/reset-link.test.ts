/**
 * Password-reset links an admin hands over (issue 15 §1, docs/admin.md "Reset password"): shown
 * once, stored hashed, single use (also under concurrent redemptions), expiring, a new one voids
 * the last; redeeming ends every session (the socket closes) and the old password stops working;
 * both pages say encrypted history stays readable only with the recovery key; audited; secrets
 * redacted from logs and never compressed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, TEST_PASSWORD } from "../../helpers/users.ts";
import { connectWithToken, listen } from "../../helpers/ws.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";
import { hashToken } from "../../../src/features/auth/tokens.ts";

let ctx: TestContext;
let usersAdmin: Client;
const NEW_PASSWORD = "A brand new passphrase 77";

beforeAll(async () => {
  ctx = await communityTestContext();
  usersAdmin = await client(ctx, { isAdmin: true, adminPowers: ["users"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

const tokenOf = (url: string) => new URL(url).pathname.split("/").pop()!;
const login = (username: string, password: string) => ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
const redeem = (token: string, password: string) => ctx.request("/api/auth/reset-password", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, new_password: password }) });

describe("the link", () => {
  test("shown once, stored hashed; redeeming sets the password, ends sessions and the socket, once; audited", async () => {
    const bob = await createUser(ctx);
    const session = await signIn(ctx, bob);
    const { ws } = await listen(ctx);
    const socket = await connectWithToken(ws, session.accessToken);
    const made = await expectOk(usersAdmin.call("POST", `/api/admin/users/${bob.id}/reset-link`), 201);
    expect(made.reset_url).toMatch(/^http:\/\/localhost\/reset-password\/[A-Za-z0-9_-]{43}$/);
    const token = tokenOf(made.reset_url);
    const rows = await ctx.database.db.selectFrom("password_reset_links").selectAll().where("user_id", "=", bob.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(new Date(made.expires_at).getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);

    const weak = await redeem(token, "short");
    expect(weak.status).toBe(400);
    // Concurrent redemptions: exactly one wins.
    const results = await Promise.all([redeem(token, NEW_PASSWORD), redeem(token, NEW_PASSWORD), redeem(token, NEW_PASSWORD)]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 404, 404]);
    const again = await redeem(token, NEW_PASSWORD);
    expect([again.status, ((await again.json()) as any).error.code]).toEqual([404, "RESET_LINK_INVALID"]);
    expect((await socket.closed).code).toBeGreaterThanOrEqual(4000);
    expect((await ctx.request("/api/account/me", { headers: session.headers })).status).toBe(401);
    expect((await login(bob.username, TEST_PASSWORD)).status).toBe(401);
    expect((await login(bob.username, NEW_PASSWORD)).status).toBe(200);
    const audit = await ctx.database.db.selectFrom("audit_log").select(["action", "actor_id"]).where("target_id", "=", bob.id).where("action", "in", ["password_reset_link_created", "password_reset_by_link"]).orderBy("created_at").execute();
    expect(audit).toEqual([
      { action: "password_reset_link_created", actor_id: usersAdmin.user.id },
      { action: "password_reset_by_link", actor_id: bob.id },
    ]);
  });

  test("a new link voids the last; an expired one does not work; target rules and unknown ids", async () => {
    const carol = await createUser(ctx);
    const first = tokenOf((await expectOk(usersAdmin.call("POST", `/api/admin/users/${carol.id}/reset-link`), 201)).reset_url);
    const second = tokenOf((await expectOk(usersAdmin.call("POST", `/api/admin/users/${carol.id}/reset-link`), 201)).reset_url);
    expect((await redeem(first, NEW_PASSWORD)).status).toBe(404);
    await ctx.database.db.updateTable("password_reset_links").set({ expires_at: new Date(Date.now() - 1000) }).where("token_hash", "=", hashToken(second)).execute();
    expect((await redeem(second, NEW_PASSWORD)).status).toBe(404);
    expect((await ctx.request(`/reset-password/${second}`)).status).toBe(404);
    expect((await redeem("x".repeat(43), NEW_PASSWORD)).status).toBe(404);
    const self = await usersAdmin.call("POST", `/api/admin/users/${usersAdmin.user.id}/reset-link`);
    expect([self.status, self.body.error.code]).toEqual([403, "ADMIN_TARGET_FORBIDDEN"]);
    expect((await usersAdmin.call("POST", `/api/admin/users/${crypto.randomUUID()}/reset-link`)).status).toBe(404);
  });
});

describe("the pages", () => {
  test("the admin's page shows the link once with a copy button and the history notice, uncompressed; the user's page resets by plain POST", async () => {
    const dave = await createUser(ctx, { displayName: "<b>Dave</b>" });
    const cookies = (await cookieSignIn(ctx, usersAdmin.user)).headers;
    const detail = await (await ctx.request(`/admin/users/${dave.id}`, { headers: cookies })).text();
    expect(detail).toContain("readable only on a device that still has the keys, or with the recovery key");
    expect(detail).toContain(`action="/admin/users/${dave.id}/reset-link"`);
    const made = await ctx.request(`/admin/users/${dave.id}/reset-link`, { method: "POST", headers: { ...cookies, "accept-encoding": "gzip, br" } });
    expect(made.status).toBe(200);
    expect(made.headers.get("content-encoding")).toBeNull();
    const html = await made.text();
    const url = /data-testid="reset-link">\s*([^<\s]+)\s*</.exec(html)?.[1];
    expect(url).toMatch(/\/reset-password\//);
    expect(html).toContain('data-copy-target="reset-link"');
    expect(html).toContain("&lt;b&gt;Dave&lt;/b&gt;");

    const path = new URL(url!).pathname;
    const form = await ctx.request(path);
    expect(form.status).toBe(200);
    const formHtml = await form.text();
    expect(formHtml).toContain(`@${dave.username}`);
    expect(formHtml).toContain("Nobody else, administrators included, can recover it.");
    const crossSite = await ctx.request(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" }, body: `new_password=${encodeURIComponent(NEW_PASSWORD)}` });
    expect(crossSite.status).toBe(403);
    const post = (password: string) => ctx.request(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" }, body: `new_password=${encodeURIComponent(password)}` });
    const weak = await post("short");
    expect(weak.status).toBe(422);
    const done = await post(NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("every session was signed out");
    expect((await post(NEW_PASSWORD)).status).toBe(404);
    expect((await login(dave.username, NEW_PASSWORD)).status).toBe(200);
  });
});
