/**
 * Issue 10 §8: a wrong current password or TOTP code on an authenticated route counts toward the
 * lockout, exactly like a wrong one at the sign-in form. Every route that checks a password or a
 * code is listed here, JSON and page face: ten wrong answers lock the account (untrusted pool),
 * after which the right password is refused at sign-in and on the route itself; each failure is
 * audited and reported at the next sign-in.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Secret, TOTP } from "otpauth";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, TEST_PASSWORD, type TestUser } from "../../helpers/users.ts";
import { encryptTotpSecret } from "../../../src/features/auth/totp.ts";
import { postJson } from "./helpers.ts";

// Ten Argon2id verifications per password route (~165 ms each) add up under load.
setDefaultTimeout(90_000);

let ctx: TestContext;
const clock = { now: Date.now() };
beforeAll(async () => {
  ctx = await createTestContext({ now: () => clock.now, sleep: async () => {} });
}, 60_000);
afterAll(() => ctx.close());

const SECRET = new Secret({ size: 20 }).base32;
const totp = new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(SECRET) });

/** A 6-digit code that is valid in none of the accepted steps around now. */
function wrongCode(): string {
  const valid = new Set([-30_000, 0, 30_000].map((d) => totp.generate({ timestamp: clock.now + d })));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!valid.has(code)) return code;
  }
}

async function withTotp(user: TestUser, enabled: boolean): Promise<void> {
  await ctx.database.db.updateTable("users").set({ totp_secret_enc: encryptTotpSecret(ctx.deps.secrets.totpKey, SECRET), totp_enabled: enabled }).where("id", "=", user.id).execute();
}

type Face = "api" | "page";
type RouteCase = {
  name: string;
  face: Face;
  method: string;
  path: string;
  context: string;
  reason: "wrong_password" | "wrong_totp";
  prepare?: (user: TestUser) => Promise<void>;
  /** The body with a wrong secret (and, for the "right answer" check, with the right one). */
  body: (wrong: boolean) => Record<string, string>;
};

const wrongPassword = (wrong: boolean) => (wrong ? "definitely not my password" : TEST_PASSWORD);
const code = (wrong: boolean) => (wrong ? wrongCode() : totp.generate({ timestamp: clock.now }));

const CASES: RouteCase[] = [
  { name: "change password", face: "api", method: "PUT", path: "/api/account/password", context: "change_password", reason: "wrong_password", body: (w) => ({ current_password: wrongPassword(w), new_password: "another fine passphrase 8" }) },
  { name: "delete account", face: "api", method: "DELETE", path: "/api/account", context: "delete_account", reason: "wrong_password", body: (w) => ({ password: wrongPassword(w) }) },
  { name: "new recovery code", face: "api", method: "POST", path: "/api/account/regenerate-recovery-code", context: "regenerate_recovery_code", reason: "wrong_password", body: (w) => ({ password: wrongPassword(w) }) },
  { name: "enable 2FA", face: "api", method: "POST", path: "/api/totp/verify", context: "enable_2fa", reason: "wrong_totp", prepare: (u) => withTotp(u, false), body: (w) => ({ code: code(w) }) },
  { name: "disable 2FA", face: "api", method: "POST", path: "/api/totp/disable", context: "disable_2fa", reason: "wrong_totp", prepare: (u) => withTotp(u, true), body: (w) => ({ code: code(w) }) },
  { name: "new backup codes", face: "api", method: "POST", path: "/api/totp/regenerate-backup-codes", context: "regenerate_backup_codes", reason: "wrong_totp", prepare: (u) => withTotp(u, true), body: (w) => ({ code: code(w) }) },
  { name: "change password", face: "page", method: "POST", path: "/settings/security/password", context: "change_password", reason: "wrong_password", body: (w) => ({ current_password: wrongPassword(w), new_password: "another fine passphrase 8" }) },
  { name: "delete account", face: "page", method: "POST", path: "/settings/account/delete", context: "delete_account", reason: "wrong_password", body: (w) => ({ password: wrongPassword(w) }) },
  { name: "new recovery code", face: "page", method: "POST", path: "/settings/security/recovery-code", context: "regenerate_recovery_code", reason: "wrong_password", body: (w) => ({ password: wrongPassword(w) }) },
  { name: "enable 2FA", face: "page", method: "POST", path: "/settings/security/totp/verify", context: "enable_2fa", reason: "wrong_totp", prepare: (u) => withTotp(u, false), body: (w) => ({ code: code(w) }) },
  { name: "disable 2FA", face: "page", method: "POST", path: "/settings/security/totp/disable", context: "disable_2fa", reason: "wrong_totp", prepare: (u) => withTotp(u, true), body: (w) => ({ code: code(w) }) },
  { name: "new backup codes", face: "page", method: "POST", path: "/settings/security/totp/backup-codes", context: "regenerate_backup_codes", reason: "wrong_totp", prepare: (u) => withTotp(u, true), body: (w) => ({ code: code(w) }) },
];

async function call(c: RouteCase, headers: Record<string, string>, wrong: boolean): Promise<{ status: number; text: string }> {
  const body = c.body(wrong);
  const init: RequestInit =
    c.face === "api"
      ? { method: c.method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) }
      : { method: c.method, headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() };
  const res = await ctx.request(c.path, init);
  return { status: res.status, text: await res.text() };
}

const signInAs = async (c: RouteCase, user: TestUser) => (c.face === "api" ? (await signIn(ctx, user)).headers : (await cookieSignIn(ctx, user)).headers);
const login = (user: TestUser, totpCode?: string) => postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD, ...(totpCode ? { totp_code: totpCode } : {}) });

describe("wrong secrets on authenticated routes count toward the lockout", () => {
  for (const c of CASES) {
    test(`${c.face} · ${c.name} (${c.method} ${c.path})`, async () => {
      const user = await createUser(ctx);
      await c.prepare?.(user);
      const headers = await signInAs(c, user);
      const results: { status: number; text: string }[] = [];
      for (let i = 0; i < 10; i++) results.push(await call(c, headers, true));
      // Nine ordinary refusals, then the lock (the page face re-renders its form with the message).
      for (const r of results.slice(0, 9)) expect(r.status).toBe(c.face === "api" ? 400 : 422);
      if (c.face === "api") expect(results[9]!.status).toBe(423);
      else expect(results[9]!.text).toContain("Too many failed attempts");
      // Locked: the right password at the sign-in form, and the right answer here, are refused.
      const locked = await login(user);
      expect(locked.status).toBe(423);
      const right = await call(c, headers, false);
      if (c.face === "api") expect(right.status).toBe(423);
      else expect(right.text).toContain("Too many failed attempts");
      // Each failure is audited with its context, and the owner is told at the next sign-in.
      const rows = await ctx.database.db.selectFrom("audit_log").select("metadata").where("target_id", "=", user.id).where("action", "=", "verification_failed").execute();
      expect(rows.length).toBe(10);
      for (const row of rows) expect(row.metadata).toMatchObject({ context: c.context, reason: c.reason, pool: "shared" });
      clock.now += 15 * 60 * 1000 + 1000;
      const twoFactorOn = (await ctx.database.db.selectFrom("users").select("totp_enabled").where("id", "=", user.id).executeTakeFirstOrThrow()).totp_enabled;
      const after = await login(user, twoFactorOn ? totp.generate({ timestamp: clock.now }) : undefined);
      expect(after.status).toBe(200);
      expect(after.body.failed_attempts_since_last_login).toBe(10);
    });
  }

  test("a trusted browser's own failures lock that browser, not the account's other clients", async () => {
    const user = await createUser(ctx);
    const signedIn = await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD });
    const device = signedIn.res.headers
      .getSetCookie()
      .find((c) => c.startsWith("hearth_device="))!
      .split(";")[0]!;
    const headers = { authorization: `Bearer ${signedIn.body.access_token}`, "content-type": "application/json", cookie: device };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await ctx.request("/api/account/password", { method: "PUT", headers, body: JSON.stringify({ current_password: "wrong again and again", new_password: "another fine passphrase 8" }) });
      statuses.push(res.status);
    }
    expect(statuses[9]).toBe(423);
    expect((await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD }, { cookie: device })).status).toBe(423);
    expect((await login(user)).status).toBe(200);
  });
});
