/**
 * Lockout is not a denial-of-service lever (issue 10 §9): strangers' failures lock only the
 * shared pool of untrusted clients; a browser that signed in as the user before (trusted-device
 * cookie) keeps its own counter, for password and recovery-code sign-in alike. The owner learns
 * at the next sign-in how many attempts failed, and each one is in the audit log.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, TEST_PASSWORD } from "../../helpers/users.ts";
import { hashToken } from "../../../src/features/auth/tokens.ts";
import { trustedDeviceCookie } from "../../../src/features/auth/device-cookie.ts";
import { postJson } from "./helpers.ts";

// Argon2id with the real parameters (~165 ms per verification) adds up under load.
setDefaultTimeout(60_000);

let ctx: TestContext;
const clock = { now: Date.now() };
beforeAll(async () => {
  ctx = await createTestContext({ now: () => clock.now, sleep: async () => {} });
}, 60_000);
afterAll(() => ctx.close());

const login = (c: TestContext, username: string, password: string, device?: string) => postJson(c, "/api/auth/login", { username, password }, device ? { cookie: device } : {});
const recover = (c: TestContext, username: string, code: string, device?: string) =>
  postJson(c, "/api/auth/recover", { username, recovery_code: code, new_password: "a brand new passphrase 9" }, device ? { cookie: device } : {});

/** "hearth_device=…" as the browser would send it back. */
function deviceCookieOf(res: Response): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith("hearth_device="));
  if (!line) throw new Error("no device cookie was set");
  return line.split(";")[0]!;
}

/** Signs in once with the right password: this "browser" becomes a trusted device. */
async function trustedBrowser(c: TestContext, username: string): Promise<string> {
  const r = await login(c, username, TEST_PASSWORD);
  expect(r.status).toBe(200);
  return deviceCookieOf(r.res);
}

async function failTimes(n: number, attempt: () => Promise<{ status: number }>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await attempt()).status);
  return statuses;
}

describe("trusted-device cookie", () => {
  test("issued at sign-in: HttpOnly, SameSite=Strict, bound to the user; kept (not re-minted) on the next sign-in", async () => {
    const user = await createUser(ctx);
    const r = await login(ctx, user.username, TEST_PASSWORD);
    const line = r.res.headers.getSetCookie().find((c) => c.startsWith("hearth_device="))!;
    expect(line).toContain("HttpOnly");
    expect(line).toContain("SameSite=Strict");
    expect(line).toContain("Path=/");
    const cookie = line.split(";")[0]!;
    expect(decodeURIComponent(cookie.slice("hearth_device=".length))).toStartWith(`${user.id}.`);
    const again = await login(ctx, user.username, TEST_PASSWORD, cookie);
    expect(deviceCookieOf(again.res)).toBe(cookie);
  });

  test("Secure when PUBLIC_URL is https; a cookie never holds more than five users", () => {
    const https = { ...ctx.config, secureCookies: true };
    const key = ctx.deps.secrets.deviceCookieKey;
    expect(trustedDeviceCookie(https, key, undefined, Bun.randomUUIDv7())).toContain("; Secure");
    expect(trustedDeviceCookie(ctx.config, key, undefined, Bun.randomUUIDv7())).not.toContain("Secure");
    let value: string | undefined;
    const ids = Array.from({ length: 7 }, () => Bun.randomUUIDv7());
    for (const id of ids) value = decodeURIComponent(trustedDeviceCookie(ctx.config, key, value, id).split(";")[0]!.slice("hearth_device=".length));
    expect(value!.split("~").map((t) => t.split(".")[0])).toEqual(ids.slice(2).reverse());
  });

  test("a second user on the same browser adds a token; both stay trusted", async () => {
    const a = await createUser(ctx);
    const b = await createUser(ctx);
    const forA = await trustedBrowser(ctx, a.username);
    const both = deviceCookieOf((await login(ctx, b.username, TEST_PASSWORD, forA)).res);
    expect(both).toContain(a.id);
    expect(both).toContain(b.id);
    for (let i = 0; i < 10; i++) await login(ctx, a.username, "wrong password from afar");
    expect((await login(ctx, a.username, TEST_PASSWORD, both)).status).toBe(200);
  });
});

describe("shared pool vs trusted device", () => {
  test("ten failures from strangers lock untrusted clients, not the owner's browser", async () => {
    const user = await createUser(ctx);
    const device = await trustedBrowser(ctx, user.username);
    const statuses = await failTimes(10, () => login(ctx, user.username, "a stranger guessing"));
    expect(statuses.slice(0, 9).every((s) => s === 401)).toBe(true);
    expect(statuses[9]).toBe(423);
    // Untrusted clients are locked out, even with the right password …
    const untrusted = await login(ctx, user.username, TEST_PASSWORD);
    expect(untrusted.status).toBe(423);
    expect(untrusted.body.error.code).toBe("ACCOUNT_LOCKED");
    // … but the owner's browser signs in, and its success does not unlock the shared pool.
    const owner = await login(ctx, user.username, TEST_PASSWORD, device);
    expect(owner.status).toBe(200);
    expect(owner.body.failed_attempts_since_last_login).toBe(10);
    expect((await login(ctx, user.username, TEST_PASSWORD)).status).toBe(423);
  });

  test("failures from a trusted browser lock that browser only", async () => {
    const user = await createUser(ctx);
    const device = await trustedBrowser(ctx, user.username);
    const statuses = await failTimes(10, () => login(ctx, user.username, "my own typo again", device));
    expect(statuses[9]).toBe(423);
    const locked = await login(ctx, user.username, TEST_PASSWORD, device);
    expect(locked.status).toBe(423);
    expect(locked.body.error.message).toContain("this browser");
    // Another client (the shared pool) is not affected.
    expect((await login(ctx, user.username, TEST_PASSWORD)).status).toBe(200);
    // The device lock ends like any other: 15 minutes.
    clock.now += 15 * 60 * 1000 + 1000;
    expect((await login(ctx, user.username, TEST_PASSWORD, device)).status).toBe(200);
  });

  test("a forged, tampered or other user's device cookie counts in the shared pool", async () => {
    const user = await createUser(ctx);
    const other = await createUser(ctx);
    const othersDevice = await trustedBrowser(ctx, other.username);
    const real = await trustedBrowser(ctx, user.username);
    const tampered = real.slice(0, -4) + (real.endsWith("0000") ? "1111" : "0000");
    const forged = `hearth_device=${user.id}.AAAAAAAAAAAAAAAAAAAAAA.${"0".repeat(64)}`;
    for (const cookie of [othersDevice, tampered, forged]) {
      for (let i = 0; i < 3; i++) expect((await login(ctx, user.username, "nope nope nope", cookie)).status).toBe(401);
    }
    expect((await login(ctx, user.username, "nope nope nope")).status).toBe(423); // 3 × 3 + 1 = 10 in the shared pool
    expect((await login(ctx, user.username, TEST_PASSWORD, real)).status).toBe(200);
  });

  test("recovery-code sign-in follows the same rule", async () => {
    const user = await createUser(ctx);
    const recoveryCode = "ABCD-EFGH-JKLM-NPQR";
    await ctx.database.db.updateTable("users").set({ recovery_code_hash: hashToken(recoveryCode) }).where("id", "=", user.id).execute();
    const device = await trustedBrowser(ctx, user.username);
    const statuses = await failTimes(10, () => recover(ctx, user.username, "ZZZZ-ZZZZ-ZZZZ-ZZZZ"));
    expect(statuses[9]).toBe(423);
    expect((await recover(ctx, user.username, recoveryCode)).status).toBe(423);
    // The trusted browser recovers; its own recovery counter is separate from its login counter.
    const ok = await recover(ctx, user.username, recoveryCode, device);
    expect(ok.status).toBe(200);
    const deviceStatuses = await failTimes(10, () => recover(ctx, user.username, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", device));
    expect(deviceStatuses[9]).toBe(423);
    expect((await recover(ctx, user.username, ok.body.recovery_code, device)).status).toBe(423);
  });
});

describe("what the owner sees afterwards", () => {
  test("the next sign-in reports the failures once; the audit log has each one, without secrets", async () => {
    const user = await createUser(ctx);
    await trustedBrowser(ctx, user.username);
    await failTimes(3, () => login(ctx, user.username, "Secret-Guess-123"));
    clock.now += 60_000;
    const at = clock.now;
    await login(ctx, user.username, "Secret-Guess-456");
    const r = await login(ctx, user.username, TEST_PASSWORD);
    expect(r.body.failed_attempts_since_last_login).toBe(4);
    expect(new Date(r.body.last_failed_attempt_at).getTime()).toBe(at);
    const next = await login(ctx, user.username, TEST_PASSWORD);
    expect(next.body.failed_attempts_since_last_login).toBe(0);
    expect(next.body.last_failed_attempt_at).toBeNull();

    const rows = await ctx.database.db.selectFrom("audit_log").select(["action", "metadata"]).where("target_id", "=", user.id).where("action", "=", "login_failed").execute();
    expect(rows.length).toBe(4);
    for (const row of rows) expect(row.metadata).toMatchObject({ reason: "wrong_password", pool: "shared" });
    const everything = JSON.stringify(await ctx.database.db.selectFrom("audit_log").selectAll().where("target_id", "=", user.id).execute());
    expect(everything).not.toContain("Secret-Guess");
    const logins = await ctx.database.db.selectFrom("audit_log").select("metadata").where("actor_id", "=", user.id).where("action", "=", "login").execute();
    expect(logins.map((l) => (l.metadata as { failed_attempts_since_last_login?: number }).failed_attempts_since_last_login)).toContain(4);
  });

  test("device-pool failures are audited with a short device hash, never the cookie's nonce", async () => {
    const user = await createUser(ctx);
    const device = await trustedBrowser(ctx, user.username);
    await login(ctx, user.username, "wrong from my browser", device);
    const nonce = decodeURIComponent(device.slice("hearth_device=".length)).split(".")[1]!;
    const rows = await ctx.database.db.selectFrom("audit_log").selectAll().where("target_id", "=", user.id).where("action", "=", "login_failed").execute();
    expect(rows.length).toBe(1);
    expect(rows[0]!.metadata).toMatchObject({ pool: "device", reason: "wrong_password" });
    expect(JSON.stringify(rows)).not.toContain(nonce);
  });
});

describe("several instances", () => {
  test("a second instance with the same keys and database honours the device cookie and the locks", async () => {
    const keys = join(ctx.dataDir, "secrets");
    const second = await createTestContext({
      database: ctx.database,
      now: () => clock.now,
      sleep: async () => {},
      env: { JWT_PRIVATE_KEY_PATH: join(keys, "jwt_private.pem"), JWT_PUBLIC_KEY_PATH: join(keys, "jwt_public.pem") },
    });
    try {
      const user = await createUser(ctx);
      const device = await trustedBrowser(ctx, user.username);
      await failTimes(10, () => login(ctx, user.username, "guessing on instance one"));
      expect((await login(second, user.username, TEST_PASSWORD)).status).toBe(423);
      expect((await login(second, user.username, TEST_PASSWORD, device)).status).toBe(200);
    } finally {
      // The database belongs to the first context: close only the second app's own parts.
      await second.hub.stop();
      rmSync(second.dataDir, { recursive: true, force: true });
    }
  });

  test("the device cookie is signed with a key derived from the JWT private key: another key pair rejects it", async () => {
    const user = await createUser(ctx);
    const other = await createTestContext({ database: ctx.database, now: () => clock.now, sleep: async () => {} });
    try {
      const foreign = trustedDeviceCookie(other.config, other.deps.secrets.deviceCookieKey, undefined, user.id).split(";")[0]!;
      for (let i = 0; i < 10; i++) await login(ctx, user.username, "strangers again", foreign);
      expect((await login(ctx, user.username, TEST_PASSWORD, foreign)).status).toBe(423);
    } finally {
      await other.hub.stop();
      rmSync(other.dataDir, { recursive: true, force: true });
    }
  });
});
