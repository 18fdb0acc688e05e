import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn, TEST_PASSWORD } from "../../helpers/users.ts";
import { getJson, postJson } from "./helpers.ts";

let ctx: TestContext;
const clock = { now: Date.now() };
const sleeps: number[] = [];
beforeAll(async () => {
  ctx = await createTestContext({ now: () => clock.now, sleep: async (ms) => void sleeps.push(ms) });
}, 60_000);
afterAll(() => ctx.close());

const login = (username: string, password: string, extra: Record<string, string> = {}) => postJson(ctx, "/api/auth/login", { username, password, ...extra });

describe("login", () => {
  test("right password: tokens and the user; the username is case-insensitive", async () => {
    const user = await createUser(ctx);
    const r = await login(user.username.toUpperCase(), TEST_PASSWORD);
    expect(r.status).toBe(200);
    expect(r.body.user.id).toBe(user.id);
    const me = await getJson(ctx, "/api/account/me", { authorization: `Bearer ${r.body.access_token}` });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
  });

  test("unknown user and wrong password get the same answer", async () => {
    const user = await createUser(ctx);
    const wrong = await login(user.username, "not the password at all");
    const unknown = await login("nobody_here_at_all", "not the password at all");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body.error.code).toBe("INVALID_CREDENTIALS");
  });

  test("logging in does not end the user's other sessions", async () => {
    const user = await createUser(ctx);
    const first = await signIn(ctx, user);
    expect((await login(user.username, TEST_PASSWORD)).status).toBe(200);
    expect((await getJson(ctx, "/api/account/me", first.headers)).status).toBe(200);
    const sessions = await getJson(ctx, "/api/account/sessions", first.headers);
    expect(sessions.body.length).toBe(2);
  });

  test("a suspended user cannot log in", async () => {
    const user = await createUser(ctx, { suspended: true });
    const r = await login(user.username, TEST_PASSWORD);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("ACCOUNT_SUSPENDED");
  });
});

describe("lockout", () => {
  test("10 failures lock the account, even for the right password; progressive delay before; unlocks after the window", async () => {
    const user = await createUser(ctx);
    sleeps.length = 0;
    for (let i = 1; i <= 9; i++) expect((await login(user.username, `wrong-${i}-password`)).body.error.code).toBe("INVALID_CREDENTIALS");
    const tenth = await login(user.username, "wrong-10-password");
    expect(tenth.status).toBe(423);
    expect(tenth.body.error.code).toBe("ACCOUNT_LOCKED");
    // Growing, bounded delays from the 3rd failure on (seeds/004).
    expect(sleeps).toEqual([100, 200, 300, 400, 500, 600, 700]);
    const right = await login(user.username, TEST_PASSWORD);
    expect(right.status).toBe(423);
    expect(Number(right.res.headers.get("retry-after"))).toBeGreaterThan(800);
    const actions = await ctx.database.db.selectFrom("audit_log").select("action").where("target_id", "=", user.id).execute();
    expect(actions.filter((a) => a.action === "login_failed").length).toBe(10);
    expect(actions.some((a) => a.action === "lockout")).toBe(true);
    clock.now += 15 * 60 * 1000 + 1000;
    const after = await login(user.username, TEST_PASSWORD);
    expect(after.status).toBe(200);
  });

  test("failures decay after the window; a success resets the count", async () => {
    const user = await createUser(ctx);
    for (let i = 0; i < 9; i++) await login(user.username, "wrong password here");
    clock.now += 16 * 60 * 1000;
    // The old nine have decayed: one more failure does not lock.
    expect((await login(user.username, "wrong password here")).body.error.code).toBe("INVALID_CREDENTIALS");
    for (let i = 0; i < 8; i++) await login(user.username, "wrong password here");
    expect((await login(user.username, TEST_PASSWORD)).status).toBe(200);
    expect((await login(user.username, "wrong password here")).body.error.code).toBe("INVALID_CREDENTIALS");
  });

  test("unknown usernames are counted too (no account enumeration through the lockout)", async () => {
    for (let i = 0; i < 9; i++) await login("ghost_user_x", "whatever password");
    expect((await login("ghost_user_x", "whatever password")).status).toBe(423);
  });
});
