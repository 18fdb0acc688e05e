/**
 * SSO end to end: Hearth listening on loopback, a real OpenID Provider (oidc-provider) on another
 * port, and Chromium clicking through the provider's login and consent pages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import type { Browser } from "playwright-core";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser } from "../../helpers/users.ts";
import { freePort, startTestIdp, type TestIdp } from "../../helpers/oidc-provider.ts";
import { launchBrowser, screenshot } from "../../helpers/browser.ts";
import { authGuard } from "../../../src/features/auth/index.ts";
import { HOSTILE_NEXT } from "../../helpers/hostile-redirects.ts";

let ctx: TestContext;
let idp: TestIdp;
let base: string;
// Launched before the tests are declared, so the browser test is skipped (with launchBrowser's
// printed reason) rather than passing with no assertion when Chromium is missing.
const browser: Browser | null = await launchBrowser();

beforeAll(async () => {
  const port = freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startTestIdp(`${base}/auth/oidc/callback`);
  ctx = await createTestContext({
    env: { PUBLIC_URL: base, REGISTRATION_MODE: "invite_only", OIDC_ISSUER_URL: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret },
  });
  ctx.app.use(new Elysia().use(authGuard(ctx.deps)).get("/api/test/me", ({ actor }) => ({ user_id: actor.userId, username: actor.username }), { auth: true }));
  ctx.app.listen({ hostname: "127.0.0.1", port });
  await createUser(ctx, { isOwner: true });
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await ctx?.close();
});

describe("SSO routes", () => {
  test("the callback refuses a missing or forged state cookie", async () => {
    const res = await fetch(`${base}/auth/oidc/callback?code=abc&state=xyz`, { redirect: "manual", headers: { cookie: "hearth_oidc=eyJhbGciOiJub25lIn0.e30." } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Start again");
  });

  test("start redirects to the provider with PKCE S256, state, nonce and the openid email profile scopes", async () => {
    const res = await fetch(`${base}/auth/oidc/start?next=//evil.example`, { redirect: "manual" });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin).toBe(idp.issuer);
    expect(location.searchParams.get("code_challenge_method")).toBe("S256");
    expect(location.searchParams.get("scope")).toBe("openid email profile");
    expect(location.searchParams.get("state")?.length).toBeGreaterThan(20);
    expect(location.searchParams.get("nonce")?.length).toBeGreaterThan(20);
    expect(location.searchParams.get("redirect_uri")).toBe(`${base}/auth/oidc/callback`);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toContain("hearth_oidc=");
    expect(cookie).toContain("HttpOnly");
  });

  test("start keeps only a same-origin next as the flow's returnTo (the callback redirects there)", async () => {
    const returnToOf = async (next: string) => {
      const res = await fetch(`${base}/auth/oidc/start?next=${encodeURIComponent(next)}`, { redirect: "manual" });
      expect(res.status).toBe(303);
      const token = /hearth_oidc=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1]!;
      return (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { returnTo: string }).returnTo;
    };
    for (const next of HOSTILE_NEXT) {
      if (next.includes("\u0000")) {
        // A NUL is refused at the edge (400 INVALID_TEXT) before the flow starts.
        expect((await fetch(`${base}/auth/oidc/start?next=${encodeURIComponent(next)}`, { redirect: "manual" })).status).toBe(400);
        continue;
      }
      expect([next, await returnToOf(next)]).toEqual([next, "/"]);
    }
    expect(await returnToOf("/settings/security?x=1#y")).toBe("/settings/security?x=1#y");
  });

  test("the login page offers SSO next to the password form; the register page offers SSO sign-up with the invite", async () => {
    const login = await (await fetch(`${base}/login`)).text();
    expect(login).toContain('data-testid="sso-start"');
    expect(login).toContain('href="/auth/oidc/start?next=%2F"');
    expect(login).toContain('name="password"');
    const register = await (await fetch(`${base}/register`)).text();
    expect(register).toContain('action="/auth/oidc/start"');
    expect(register).toContain('name="invite"');
  });

  test("OIDC_DISABLE_PASSWORD_LOGIN hides the password form and refuses password login", async () => {
    const ssoOnly = await createTestContext({
      database: ctx.database,
      env: { PUBLIC_URL: base, OIDC_ISSUER_URL: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_DISABLE_PASSWORD_LOGIN: "true" },
    });
    const login = await (await ssoOnly.request("/login")).text();
    expect(login).toContain('data-testid="sso-start"');
    expect(login).not.toContain('name="password"');
    const user = await createUser(ctx);
    const res = await ssoOnly.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: user.username, password: user.password }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PASSWORD_LOGIN_DISABLED");
  });

  test("SSO is a 404 when not configured", async () => {
    const plain = await createTestContext({ database: ctx.database });
    expect((await plain.request("/auth/oidc/start")).status).toBe(404);
  });
});

describe("SSO in the browser", () => {
  async function signInThroughIdp(login: string, startPath: string) {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${base}${startPath}`);
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', "anything");
    await page.click('button[type="submit"]');
    // Consent screen of the provider's development interactions.
    await page.waitForURL((url) => url.origin === idp.issuer && url.pathname.includes("/interaction/"));
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.origin === base, { timeout: 30_000 });
    return { context, page };
  }

  test.skipIf(!browser)("invite_only: a first-time SSO user with an invite gets an account and a session; without one, a clear refusal", async () => {
    // Without an invite the provider signs the user in, but Hearth refuses to provision.
    const refused = await signInThroughIdp("nobody", "/auth/oidc/start");
    expect(await refused.page.content()).toContain("invite-only");
    await screenshot(refused.page, "oidc-refused-desktop");
    await refused.context.close();

    const code = `SSO${Date.now()}`;
    await ctx.database.db.insertInto("registration_invites").values({ id: Bun.randomUUIDv7(), code, max_uses: 1, uses: 0, created_at: new Date() }).execute();
    idp.accounts.set("carol", { email: "carol@corp.example", preferred_username: "carol", name: "Carol <b>Danvers</b>" });
    const { context, page } = await signInThroughIdp("carol", `/auth/oidc/start?invite=${code}&next=/`);
    expect(new URL(page.url()).pathname).toBe("/");
    const me = await page.request.get(`${base}/api/test/me`);
    expect(me.status()).toBe(200);
    const body = (await me.json()) as { username: string };
    expect(body.username).toBe("carol");
    const user = await ctx.database.db.selectFrom("users").select(["display_name", "oidc_issuer", "password_hash"]).where("username", "=", "carol").executeTakeFirstOrThrow();
    expect(user.oidc_issuer).toBe(idp.issuer);
    expect(user.password_hash).toBeNull();
    expect(user.display_name).toBe("Carol <b>Danvers</b>"); // stored as given; every page escapes it
    await context.close();

    // Second sign-in: the account exists, so no invite is needed.
    const again = await signInThroughIdp("carol", "/auth/oidc/start");
    expect((await again.page.request.get(`${base}/api/test/me`)).status()).toBe(200);
    await again.context.close();
    const sessions = await ctx.database.db.selectFrom("sessions").innerJoin("users", "users.id", "sessions.user_id").select("sessions.id").where("users.username", "=", "carol").execute();
    expect(sessions).toHaveLength(2); // signing in again does not end the first session
  });
});
