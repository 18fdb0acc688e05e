import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn, TEST_PASSWORD } from "../../helpers/users.ts";
import { onSessionsRevoked } from "../../../src/features/auth/index.ts";
import { getJson, postJson, sendJson } from "./helpers.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
}, 60_000);
afterAll(() => ctx.close());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("refresh tokens", () => {
  test("rotate on every use; reusing an old one revokes the session, and its access token fails at once", async () => {
    const user = await createUser(ctx);
    const s = await signIn(ctx, user);
    const first = await postJson(ctx, "/api/auth/refresh", { refresh_token: s.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(s.refreshToken);
    const second = await postJson(ctx, "/api/auth/refresh", { refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);
    expect((await getJson(ctx, "/api/account/me", bearer(second.body.access_token))).status).toBe(200);
    const heard: unknown[] = [];
    const stop = onSessionsRevoked(ctx.deps, (userId, ids) => heard.push([userId, ids]));
    const reuse = await postJson(ctx, "/api/auth/refresh", { refresh_token: s.refreshToken });
    stop();
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe("REFRESH_TOKEN_REUSED");
    expect(heard).toEqual([[user.id, [s.sessionId]]]);
    // The newest token of the session is dead too, and so is the access token.
    expect((await postJson(ctx, "/api/auth/refresh", { refresh_token: second.body.refresh_token })).status).toBe(401);
    expect((await getJson(ctx, "/api/account/me", bearer(second.body.access_token))).status).toBe(401);
  });

  test("an unknown refresh token is 401", async () => {
    const r = await postJson(ctx, "/api/auth/refresh", { refresh_token: "x".repeat(43) });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("REFRESH_TOKEN_INVALID");
  });
});

describe("housekeeping", () => {
  test("drops sessions ended over 7 days ago and stale login attempts; keeps live ones", async () => {
    const { runAuthHousekeeping } = await import("../../../src/features/auth/housekeeping.ts");
    const { authKernelOf } = await import("../../../src/features/auth/index.ts");
    const user = await createUser(ctx);
    const live = await signIn(ctx, user);
    const old = await signIn(ctx, user);
    const longAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    await ctx.database.db.updateTable("sessions").set({ revoked_at: longAgo }).where("id", "=", old.sessionId).execute();
    await ctx.database.db.insertInto("login_attempts").values({ key: "login:stale_one", failures: 3, last_failure_at: longAgo }).execute();
    await ctx.database.db.insertInto("login_attempts").values({ key: "login:locked_one", failures: 0, last_failure_at: new Date(), locked_until: new Date(Date.now() + 60_000) }).execute();
    await runAuthHousekeeping(authKernelOf(ctx.deps));
    const sessions = await ctx.database.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).execute();
    expect(sessions.map((s) => s.id)).toEqual([live.sessionId]);
    const keys = (await ctx.database.db.selectFrom("login_attempts").select("key").execute()).map((r) => r.key);
    expect(keys).not.toContain("login:stale_one");
    expect(keys).toContain("login:locked_one");
  });
});

describe("sessions", () => {
  test("list shows device, IP, times and the current one", async () => {
    const user = await createUser(ctx);
    const a = await signIn(ctx, user);
    await signIn(ctx, user);
    const list = await getJson(ctx, "/api/account/sessions", a.headers);
    expect(list.status).toBe(200);
    expect(list.body.length).toBe(2);
    const current = list.body.find((s: { current: boolean }) => s.current);
    expect(current.id).toBe(a.sessionId);
    expect(current.device_name).toBe("Firefox on Linux");
    expect(current.ip_address).toBe("127.0.0.1");
    expect(current.created_at).toBeString();
    expect(current.last_used_at).toBeString();
  });

  test("DELETE /api/account/sessions/{id}: own session revoked at once; an outsider's id is 404", async () => {
    const user = await createUser(ctx);
    const other = await createUser(ctx);
    const a = await signIn(ctx, user);
    const b = await signIn(ctx, user);
    const o = await signIn(ctx, other);
    expect((await sendJson(ctx, "DELETE", `/api/account/sessions/${o.sessionId}`, undefined, a.headers)).status).toBe(404);
    // A malformed id is refused before any lookup (src/http/input-guard.ts).
    expect((await sendJson(ctx, "DELETE", `/api/account/sessions/not-a-uuid`, undefined, a.headers)).status).toBe(400);
    expect((await getJson(ctx, "/api/account/me", o.headers)).status).toBe(200);
    expect((await sendJson(ctx, "DELETE", `/api/account/sessions/${b.sessionId}`, undefined, a.headers)).status).toBe(204);
    expect((await getJson(ctx, "/api/account/me", b.headers)).status).toBe(401);
    expect((await getJson(ctx, "/api/account/me", a.headers)).status).toBe(200);
  });

  test("logout ends this session; logout-all ends every session", async () => {
    const user = await createUser(ctx);
    const a = await signIn(ctx, user);
    const b = await signIn(ctx, user);
    const c = await signIn(ctx, user);
    expect((await postJson(ctx, "/api/auth/logout", {}, a.headers)).status).toBe(204);
    expect((await getJson(ctx, "/api/account/me", a.headers)).status).toBe(401);
    expect((await getJson(ctx, "/api/account/me", b.headers)).status).toBe(200);
    const heard: unknown[] = [];
    const stop = onSessionsRevoked(ctx.deps, (userId, ids) => heard.push([userId, ids]));
    const all = await postJson(ctx, "/api/account/logout-all", {}, b.headers);
    stop();
    expect(all.body.revoked_count).toBe(2);
    expect(heard).toEqual([[user.id, "all"]]);
    expect((await getJson(ctx, "/api/account/me", b.headers)).status).toBe(401);
    expect((await getJson(ctx, "/api/account/me", c.headers)).status).toBe(401);
    expect((await postJson(ctx, "/api/auth/refresh", { refresh_token: c.refreshToken })).status).toBe(401);
  });

  test("changing the password ends the other sessions but keeps this one", async () => {
    const user = await createUser(ctx);
    const a = await signIn(ctx, user);
    const b = await signIn(ctx, user);
    const wrong = await sendJson(ctx, "PUT", "/api/account/password", { current_password: "not it at all", new_password: "a brand new passphrase 9" }, a.headers);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.fields.current_password).toBeString();
    const ok = await sendJson(ctx, "PUT", "/api/account/password", { current_password: TEST_PASSWORD, new_password: "a brand new passphrase 9" }, a.headers);
    expect(ok.status).toBe(200);
    expect(ok.body.revoked_sessions).toBe(1);
    expect((await getJson(ctx, "/api/account/me", a.headers)).status).toBe(200);
    expect((await getJson(ctx, "/api/account/me", b.headers)).status).toBe(401);
    expect((await postJson(ctx, "/api/auth/login", { username: user.username, password: "a brand new passphrase 9" })).status).toBe(200);
  });
});
