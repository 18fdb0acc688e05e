import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { Elysia } from "elysia";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn } from "../../helpers/users.ts";
import { authGuard, authKernelOf, onSessionsRevoked, revokeSession } from "../../../src/features/auth/index.ts";
import { runInTransaction } from "../../../src/db/tx.ts";

let ctx: TestContext;
let clock = Date.now();
beforeAll(async () => {
  ctx = await createTestContext({ now: () => clock });
  ctx.app.use(
    new Elysia()
      .use(authGuard(ctx.deps))
      .get("/api/test/me", ({ actor }) => ({ user_id: actor.userId, session_id: actor.sessionId, via: actor.via }), { auth: true })
      .post("/api/test/write", ({ actor }) => ({ ok: actor.userId }), { auth: true })
      .get("/api/test/invites-admin", ({ actor }) => ({ ok: actor.userId }), { admin: "invites" })
      .get("/test/page", ({ actor }) => new Response(`hello ${actor.username}`), { auth: true }),
  );
}, 60_000);
afterAll(() => ctx.close());

describe("auth guard", () => {
  test("Bearer token resolves the actor", async () => {
    const user = await createUser(ctx);
    const { headers, sessionId } = await signIn(ctx, user);
    const res = await ctx.request("/api/test/me", { headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user_id: user.id, session_id: sessionId, via: "bearer" });
  });

  test("no credentials: 401 JSON on /api, redirect to /login on a page", async () => {
    const api = await ctx.request("/api/test/me");
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    const page = await ctx.request("/test/page");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Ftest%2Fpage");
  });

  test("a garbage or tampered token is refused", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const [h, p, s] = accessToken.split(".");
    const forged = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url") + "." + p + ".";
    // Flip one character in the middle of the signature (the last ones may carry padding bits only).
    const flipped = s!.slice(0, 20) + (s![20] === "A" ? "B" : "A") + s!.slice(21);
    for (const token of ["x", forged, `${h}.${p}.${flipped}`]) {
      const res = await ctx.request("/api/test/me", { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });

  test("a revoked session fails at once, and the hub is told after COMMIT", async () => {
    const user = await createUser(ctx);
    const { headers, sessionId } = await signIn(ctx, user);
    const heard: [string, string[] | "all"][] = [];
    const stop = onSessionsRevoked(ctx.deps, (userId, ids) => heard.push([userId, ids]));
    const kernel = authKernelOf(ctx.deps);
    await runInTransaction({ db: ctx.database.db, events: ctx.deps.events }, async (tx, outbox) => {
      await revokeSession(tx, kernel, outbox, user.id, sessionId, "test");
      expect(heard).toEqual([]); // not before COMMIT
    });
    stop();
    expect(heard).toEqual([[user.id, [sessionId]]]);
    const res = await ctx.request("/api/test/me", { headers });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SESSION_REVOKED");
  });

  test("suspendUser ends every session after COMMIT and tells the hub; unsuspend lets the user sign in again", async () => {
    const { suspendUser, unsuspendUser } = await import("../../../src/features/auth/index.ts");
    const user = await createUser(ctx);
    const a = await signIn(ctx, user);
    const heard: unknown[] = [];
    const stop = onSessionsRevoked(ctx.deps, (userId, ids) => heard.push([userId, ids]));
    await suspendUser(authKernelOf(ctx.deps), null, user.id, "spam");
    stop();
    expect(heard).toEqual([[user.id, "all"]]);
    expect((await ctx.request("/api/test/me", { headers: a.headers })).status).toBe(401);
    expect((await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: user.username, password: user.password }) })).status).toBe(403);
    await unsuspendUser(authKernelOf(ctx.deps), null, user.id);
    expect((await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: user.username, password: user.password }) })).status).toBe(200);
  });

  test("with an https PUBLIC_URL cookies are Secure and that origin passes the CSRF check", async () => {
    const secure = await createTestContext({ env: { PUBLIC_URL: "https://chat.example.org" } });
    try {
      const user = await createUser(secure);
      const res = await secure.request("/login", {
        method: "POST",
        headers: { origin: "https://chat.example.org", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: user.username, password: user.password }).toString(),
      });
      expect(res.status).toBe(303);
      for (const c of res.headers.getSetCookie()) expect(c).toContain("; Secure");
    } finally {
      await secure.close();
    }
  });

  test("a suspended user fails at once", async () => {
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    expect((await ctx.request("/api/test/me", { headers })).status).toBe(200);
    await ctx.database.db.updateTable("users").set({ suspended_at: new Date() }).where("id", "=", user.id).execute();
    expect((await ctx.request("/api/test/me", { headers })).status).toBe(401);
  });

  test("cookie writes need a same-origin request (CSRF); Bearer writes do not", async () => {
    const user = await createUser(ctx);
    const { headers } = await cookieSignIn(ctx, user);
    const cookie = headers.cookie!;
    const crossSite = await ctx.request("/api/test/write", { method: "POST", headers: { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe("CSRF_REJECTED");
    const noOrigin = await ctx.request("/api/test/write", { method: "POST", headers: { cookie } });
    expect(noOrigin.status).toBe(403);
    const sameOrigin = await ctx.request("/api/test/write", { method: "POST", headers: { cookie, origin: "http://localhost" } });
    expect(sameOrigin.status).toBe(200);
    const fetchMeta = await ctx.request("/api/test/write", { method: "POST", headers: { cookie, "sec-fetch-site": "same-origin" } });
    expect(fetchMeta.status).toBe(200);
    const bearer = await signIn(ctx, user);
    expect((await ctx.request("/api/test/write", { method: "POST", headers: { authorization: bearer.headers.authorization! } })).status).toBe(200);
  });

  test("an expired access cookie is refreshed transparently through the refresh cookie", async () => {
    const user = await createUser(ctx);
    const { headers, refreshToken } = await cookieSignIn(ctx, user);
    clock += 16 * 60 * 1000;
    try {
      const res = await ctx.request("/api/test/me", { headers });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie();
      expect(cookies.some((c) => c.startsWith("hearth_access=") && c.includes("HttpOnly") && c.includes("SameSite=Lax"))).toBe(true);
      const newRefresh = cookies.find((c) => c.startsWith("hearth_refresh="))!;
      expect(newRefresh).toBeDefined();
      expect(newRefresh).not.toContain(refreshToken);
    } finally {
      clock -= 16 * 60 * 1000;
    }
  });

  test("admin powers are checked per power", async () => {
    const plain = await createUser(ctx);
    const auditor = await createUser(ctx, { isAdmin: true, adminPowers: ["audit"] });
    const inviter = await createUser(ctx, { isAdmin: true, adminPowers: ["invites"] });
    const owner = await createUser(ctx, { isOwner: true, adminPowers: [] });
    const status = async (u: { id: string }) => (await ctx.request("/api/test/invites-admin", { headers: (await signIn(ctx, u)).headers })).status;
    expect(await status(plain)).toBe(403);
    expect(await status(auditor)).toBe(403);
    expect(await status(inviter)).toBe(200);
    expect(await status(owner)).toBe(200);
  });
});
