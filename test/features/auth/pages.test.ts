/**
 * The htmx/plain-POST face: same services as the API, forms that work without JavaScript,
 * CSRF refusal of cross-site form posts, inline errors, and escaping of hostile input.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { Secret, TOTP } from "otpauth";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, TEST_PASSWORD } from "../../helpers/users.ts";
import { ensureSetupToken } from "../../../src/features/auth/setup.ts";
import { getJson, postJson, sendJson } from "./helpers.ts";

let ctx: TestContext;
const clock = { now: Date.now() };
beforeAll(async () => {
  ctx = await createTestContext({ now: () => clock.now, sleep: async () => {}, env: { REGISTRATION_MODE: "invite_only" } });
}, 60_000);
afterAll(() => ctx.close());

const SAME_ORIGIN = { origin: "http://localhost", "content-type": "application/x-www-form-urlencoded" };
const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({ method: "POST", headers: { ...SAME_ORIGIN, ...headers }, body: new URLSearchParams(fields).toString() });
const cookieHeader = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="))
    .join("; ");

const PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'];
function expectNoRawPayload(html: string) {
  expect(html).not.toContain("<script>alert(1)</script>");
  expect(html).not.toContain("<img src=x onerror");
  expect(html).not.toMatch(/<svg\/onload/);
}

describe("sign-in pages", () => {
  test("signed out, / goes to /login; the login page renders", async () => {
    const home = await ctx.request("/");
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/login");
    const login = await ctx.request("/login");
    expect(login.status).toBe(200);
    const html = await login.text();
    expect(html).toContain('action="/login"');
    expect(html).toContain('name="username"');
  });

  test("plain POST login: wrong password re-renders the form (422), right one redirects with HttpOnly cookies", async () => {
    const user = await createUser(ctx, { displayName: "Page Person" });
    const first = await ctx.request("/login", form({ username: user.username, password: TEST_PASSWORD, next: "/settings/security" }));
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/settings/security");
    const wrong = await ctx.request("/login", form({ username: user.username, password: "not the password" }));
    expect(wrong.status).toBe(422);
    const html = await wrong.text();
    expect(html).toContain("The username or password is wrong.");
    expect(html).toContain(`value="${user.username}"`);
    // After a failure the sign-in first shows how many attempts failed; Continue goes on to next.
    const ok = await ctx.request("/login", form({ username: user.username, password: TEST_PASSWORD, next: "/settings/security" }));
    expect(ok.status).toBe(200);
    const notice = await ok.text();
    expect(notice).toContain("1 failed sign-in attempt since your last sign-in");
    expect(notice).toContain('href="/settings/security"');
    const cookies = ok.headers.getSetCookie();
    expect(cookies.map((c) => c.split("=")[0])).toEqual(["hearth_access", "hearth_refresh", "hearth_device"]);
    for (const c of cookies.slice(0, 2)) expect(c).toMatch(/HttpOnly; SameSite=Lax/);
    expect(cookies[2]).toMatch(/HttpOnly; SameSite=Strict/);
    const home = await ctx.request("/", { headers: { cookie: cookieHeader(ok) } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("Welcome, Page Person");
  });

  test("an open redirect through next is refused", async () => {
    const user = await createUser(ctx);
    const ok = await ctx.request("/login", form({ username: user.username, password: TEST_PASSWORD, next: "//evil.example/x" }));
    expect(ok.headers.get("location")).toBe("/");
  });

  test("htmx login answers the form fragment and HX-Redirect", async () => {
    const user = await createUser(ctx);
    const wrong = await ctx.request("/login", form({ username: user.username, password: "nope nope nope" }, { "hx-request": "true" }));
    expect(wrong.status).toBe(422);
    const fragment = await wrong.text();
    expect(fragment).toStartWith("<form");
    expect(fragment).toContain("data-error-slot");
    const noticed = await ctx.request("/login", form({ username: user.username, password: TEST_PASSWORD }, { "hx-request": "true" }));
    expect(noticed.status).toBe(200);
    expect(await noticed.text()).toContain('data-testid="failed-attempts-notice"');
    // Shown once: the next sign-in goes straight on.
    const ok = await ctx.request("/login", form({ username: user.username, password: TEST_PASSWORD }, { "hx-request": "true" }));
    expect(ok.status).toBe(204);
    expect(ok.headers.get("hx-redirect")).toBe("/");
  });

  test("2FA: the password step shows the code form with a pending token (no password), the code step signs in", async () => {
    const user = await createUser(ctx);
    const s = await signIn(ctx, user);
    const secret = (await postJson(ctx, "/api/totp/setup", {}, s.headers)).body.secret as string;
    const totp = new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) });
    expect((await postJson(ctx, "/api/totp/verify", { code: totp.generate({ timestamp: clock.now }) }, s.headers)).status).toBe(200);
    clock.now += 30_000;
    const step1 = await ctx.request("/login", form({ username: user.username, password: TEST_PASSWORD }));
    expect(step1.status).toBe(200);
    expect(step1.headers.getSetCookie()).toEqual([]);
    const html = await step1.text();
    expect(html).toContain('action="/login/totp"');
    expect(html).not.toContain(TEST_PASSWORD);
    const pending = /name="pending_token" value="([^"]+)"/.exec(html)![1]!;
    const bad = await ctx.request("/login/totp", form({ pending_token: pending, code: "000000" }));
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('aria-invalid="true"');
    const ok = await ctx.request("/login/totp", form({ pending_token: pending, code: totp.generate({ timestamp: clock.now }) }));
    // The wrong code counted: the sign-in shows it before going on.
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("1 failed sign-in attempt since your last sign-in");
    expect(ok.headers.getSetCookie().length).toBe(3);
    // A pending token is not an access token.
    expect((await getJson(ctx, "/api/account/me", { authorization: `Bearer ${pending}` })).status).toBe(401);
  });

  test("sign-out clears the cookies and ends the session", async () => {
    const user = await createUser(ctx);
    const c = await cookieSignIn(ctx, user);
    const out = await ctx.request("/logout", { method: "POST", headers: c.headers });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().every((x) => x.includes("Max-Age=0"))).toBe(true);
    expect((await getJson(ctx, "/api/account/me", { authorization: `Bearer ${c.accessToken}` })).status).toBe(401);
  });
});

describe("CSRF", () => {
  test("a cross-site form POST with the session cookie is refused; a same-origin one works", async () => {
    const user = await createUser(ctx, { displayName: "Before" });
    const c = await cookieSignIn(ctx, user);
    const evil = await ctx.request("/settings/account/profile", {
      method: "POST",
      headers: { cookie: c.headers.cookie!, origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "application/x-www-form-urlencoded" },
      body: "display_name=Hacked",
    });
    expect(evil.status).toBe(403);
    const api = await ctx.request("/api/account/logout-all", { method: "POST", headers: { cookie: c.headers.cookie!, origin: "https://evil.example" } });
    expect(api.status).toBe(403);
    const loginCsrf = await ctx.request("/login", { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" }, body: "username=a&password=b" });
    expect(loginCsrf.status).toBe(403);
    expect((await getJson(ctx, "/api/account/me", { authorization: `Bearer ${c.accessToken}` })).body.display_name).toBe("Before");
    const ok = await ctx.request("/settings/account/profile", form({ display_name: "After" }, { cookie: c.headers.cookie! }));
    expect(ok.status).toBe(303);
    expect((await getJson(ctx, "/api/account/me", { authorization: `Bearer ${c.accessToken}` })).body.display_name).toBe("After");
  });
});

describe("settings pages", () => {
  test("security page lists sessions; revoking an outsider's session id is 404; profile errors are inline", async () => {
    const user = await createUser(ctx);
    const other = await signIn(ctx, await createUser(ctx));
    const c = await cookieSignIn(ctx, user);
    const page = await ctx.request("/settings/security", { headers: c.headers });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`data-session-id="${c.sessionId}"`);
    expect(html).toContain("This device");
    expect((await ctx.request(`/settings/security/sessions/${other.sessionId}/revoke`, { method: "POST", headers: c.headers })).status).toBe(404);
    const tooLong = await ctx.request("/settings/account/profile", form({ display_name: "x".repeat(65) }, { cookie: c.headers.cookie! }));
    expect(tooLong.status).toBe(422);
    expect(await tooLong.text()).toContain("Use at most 64 characters.");
  });

  test("admin invites page: admins create and revoke; others are refused", async () => {
    const admin = await cookieSignIn(ctx, await createUser(ctx, { isAdmin: true, adminPowers: ["invites"] }));
    const plain = await cookieSignIn(ctx, await createUser(ctx));
    expect((await ctx.request("/admin/invites", { headers: plain.headers })).status).toBe(403);
    const created = await ctx.request("/admin/invites", form({ max_uses: "3", expires_in_hours: "24" }, { cookie: admin.headers.cookie! }));
    expect(created.status).toBe(200);
    const id = /data-invite-id="([^"]+)"/.exec(await created.text())![1]!;
    expect((await ctx.request(`/admin/invites/${id}/delete`, { method: "POST", headers: plain.headers })).status).toBe(404);
    expect((await ctx.request(`/admin/invites/${id}/delete`, { method: "POST", headers: admin.headers })).status).toBe(303);
    const bad = await ctx.request("/admin/invites", form({ expires_in_hours: "9000" }, { cookie: admin.headers.cookie! }));
    expect(bad.status).toBe(422);
  });
});

describe("audit log page", () => {
  test("auditors see entries (escaped); others are refused", async () => {
    const auditor = await cookieSignIn(ctx, await createUser(ctx, { isAdmin: true, adminPowers: ["audit"] }));
    const plain = await cookieSignIn(ctx, await createUser(ctx));
    await ctx.request("/login", form({ username: '"><img src=x onerror=alert(1)>', password: "whatever at all" }));
    expect((await ctx.request("/admin/audit-log", { headers: plain.headers })).status).toBe(403);
    const res = await ctx.request("/admin/audit-log", { headers: auditor.headers });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("login_failed");
    expect(html).toContain('href="/admin/audit-log"');
    expectNoRawPayload(html);
  });
});

describe("hostile input", () => {
  test("every text field is stored as given and rendered escaped", async () => {
    for (const payload of PAYLOADS) {
      const user = await createUser(ctx, { displayName: payload, email: `"><svg/onload=alert(1)>${Math.random().toString(36).slice(2)}@example.test` });
      const s = await signIn(ctx, user);
      const put = await sendJson(ctx, "PUT", "/api/account/profile", { display_name: payload, custom_status: payload, bio: payload, pronouns: payload.slice(0, 50) }, s.headers);
      expect(put.status).toBe(200);
      expect(put.body.bio).toBe(payload);
      const c = await cookieSignIn(ctx, user);
      for (const path of ["/", "/settings/account", "/settings/security"]) {
        const html = await (await ctx.request(path, { headers: c.headers })).text();
        expectNoRawPayload(html);
      }
      const account = await (await ctx.request("/settings/account", { headers: c.headers })).text();
      expect(account).toContain("&lt;");
      // Re-rendered forms echo user input escaped: login, register, recover, invites.
      for (const [path, fields] of [
        ["/login", { username: payload, password: "x" }],
        ["/register", { username: payload, email: payload, display_name: payload, invite_code: payload, password: "x" }],
        ["/recover", { username: payload, recovery_code: payload, new_password: "a fine new passphrase 1" }],
      ] as const) {
        const res = await ctx.request(path, form(fields as Record<string, string>));
        expect(res.status).toBe(422);
        expectNoRawPayload(await res.text());
      }
    }
  });
});

describe("register page", () => {
  test("a new instance asks for the setup token; the first account sees its recovery code once and is signed in", async () => {
    const fresh = await createTestContext({ env: { REGISTRATION_MODE: "closed" } });
    try {
      const token = (await ensureSetupToken(fresh.deps))!;
      const get = await fresh.request(`/register?setup_token=${token}`);
      const html = await get.text();
      expect(html).toContain('name="setup_token"');
      expect(html).toContain(`value="${token}"`);
      const post = await fresh.request("/register", form({ setup_token: token, username: "owner", email: "owner@example.test", password: "the owner passphrase 1" }));
      expect(post.status).toBe(200);
      expect(await post.text()).toMatch(/data-testid="recovery-code">[A-Z2-9-]{19}</);
      const home = await fresh.request("/", { headers: { cookie: cookieHeader(post) } });
      expect(home.status).toBe(200);
      // Closed mode after setup: the page says so.
      expect(await (await fresh.request("/register")).text()).toContain("Registration is closed");
    } finally {
      await fresh.close();
    }
  });
});
