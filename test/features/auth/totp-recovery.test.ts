import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { Secret, TOTP } from "otpauth";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn, TEST_PASSWORD } from "../../helpers/users.ts";
import { getJson, postJson, sendJson } from "./helpers.ts";
import { decryptTotpSecret } from "../../../src/features/auth/totp.ts";

let ctx: TestContext;
const clock = { now: Date.now() };
beforeAll(async () => {
  ctx = await createTestContext({ now: () => clock.now, sleep: async () => {} });
}, 60_000);
afterAll(() => ctx.close());

const codeAt = (secret: string, ms: number) => new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });
const nextStep = () => (clock.now += 30_000);

describe("TOTP", () => {
  test("enable, login requires the code, a code cannot be replayed, a backup code works once, disable", async () => {
    const user = await createUser(ctx);
    const s = await signIn(ctx, user);
    const setup = await postJson(ctx, "/api/totp/setup", {}, s.headers);
    expect(setup.status).toBe(200);
    expect(setup.body.otpauth_url).toStartWith("otpauth://totp/Hearth:");
    const secret = setup.body.secret as string;
    // Encrypted at rest: the column holds no trace of the base32 secret.
    const row = await ctx.database.db.selectFrom("users").select("totp_secret_enc").where("id", "=", user.id).executeTakeFirstOrThrow();
    expect(row.totp_secret_enc).not.toContain(secret);
    expect(decryptTotpSecret(ctx.deps.secrets.totpKey, row.totp_secret_enc!)).toBe(secret);

    expect((await postJson(ctx, "/api/totp/verify", { code: "000000" }, s.headers)).body.error.code).toBe("TOTP_INVALID");
    const verified = await postJson(ctx, "/api/totp/verify", { code: codeAt(secret, clock.now) }, s.headers);
    expect(verified.status).toBe(200);
    expect(verified.body.backup_codes.length).toBe(8);
    const [backup] = verified.body.backup_codes as string[];
    expect(backup).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect((await getJson(ctx, "/api/account/me", s.headers)).body.totp_enabled).toBe(true);
    expect((await postJson(ctx, "/api/totp/setup", {}, s.headers)).status).toBe(409);

    const noCode = await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD });
    expect(noCode.status).toBe(401);
    expect(noCode.body.error.code).toBe("TOTP_REQUIRED");
    nextStep();
    const code = codeAt(secret, clock.now);
    const ok = await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD, totp_code: code });
    expect(ok.status).toBe(200);
    const replay = await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD, totp_code: code });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe("TOTP_INVALID");
    // An older step than the last accepted one is refused too (within the ±1 window).
    const previous = codeAt(secret, clock.now - 30_000);
    expect((await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD, totp_code: previous })).status).toBe(401);

    const withBackup = await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD, totp_code: backup!.toLowerCase() });
    expect(withBackup.status).toBe(200);
    const backupAgain = await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD, totp_code: backup });
    expect(backupAgain.status).toBe(401);
    const audit = await ctx.database.db.selectFrom("audit_log").select("action").where("actor_id", "=", user.id).execute();
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["2fa_enabled", "backup_code_used", "login", "login_failed"]));

    nextStep();
    const regenerated = await postJson(ctx, "/api/totp/regenerate-backup-codes", { code: codeAt(secret, clock.now) }, s.headers);
    expect(regenerated.body.backup_codes.length).toBe(8);
    expect(regenerated.body.backup_codes).not.toContain(verified.body.backup_codes[1]);
    nextStep();
    expect((await postJson(ctx, "/api/totp/disable", { code: "123456" }, s.headers)).status).toBe(400);
    const disabled = await postJson(ctx, "/api/totp/disable", { code: codeAt(secret, clock.now) }, s.headers);
    expect(disabled.body).toEqual({ enabled: false });
    expect((await postJson(ctx, "/api/auth/login", { username: user.username, password: TEST_PASSWORD })).status).toBe(200);
  });
});

describe("recovery", () => {
  test("username + recovery code + new password: password changed, all sessions revoked, new code shown once", async () => {
    // (Registration returns the first recovery code; that path is covered in register.test.ts.)
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    const username = user.username;
    const code: string = (await postJson(ctx, "/api/account/regenerate-recovery-code", { password: TEST_PASSWORD }, headers)).body.recovery_code;
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/);
    const wrong = await postJson(ctx, "/api/auth/recover", { username, recovery_code: "AAAA-BBBB-CCCC-DDDD", new_password: "another good passphrase 2" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("INVALID_RECOVERY_CODE");
    const ok = await postJson(ctx, "/api/auth/recover", { username, recovery_code: code.toLowerCase(), new_password: "another good passphrase 2" });
    expect(ok.status).toBe(200);
    expect(ok.body.recovery_code).not.toBe(code);
    expect((await getJson(ctx, "/api/account/me", headers)).status).toBe(401);
    expect((await postJson(ctx, "/api/auth/login", { username, password: "another good passphrase 2" })).status).toBe(200);
    expect((await postJson(ctx, "/api/auth/recover", { username, recovery_code: code, new_password: "third good passphrase 3" })).status).toBe(401);
  });

  test("recovery-code attempts are locked out after 10 failures", async () => {
    const user = await createUser(ctx);
    for (let i = 0; i < 9; i++) await postJson(ctx, "/api/auth/recover", { username: user.username, recovery_code: "AAAA-BBBB-CCCC-DDDD", new_password: "another good passphrase 2" });
    const tenth = await postJson(ctx, "/api/auth/recover", { username: user.username, recovery_code: "AAAA-BBBB-CCCC-DDDD", new_password: "another good passphrase 2" });
    expect(tenth.status).toBe(423);
  });

  test("regenerating needs the password", async () => {
    const user = await createUser(ctx);
    const s = await signIn(ctx, user);
    expect((await postJson(ctx, "/api/account/regenerate-recovery-code", { password: "nope nope nope" }, s.headers)).status).toBe(400);
    expect((await postJson(ctx, "/api/account/regenerate-recovery-code", { password: TEST_PASSWORD }, s.headers)).status).toBe(200);
  });
});

describe("account", () => {
  test("profile limits, and delete with password in one go", async () => {
    const user = await createUser(ctx);
    const s = await signIn(ctx, user);
    const bad = await sendJson(ctx, "PUT", "/api/account/profile", { display_name: "", bio: "b".repeat(501), pronouns: "p".repeat(51), custom_status: "s".repeat(129) }, s.headers);
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(["bio", "custom_status", "display_name", "pronouns"]);
    const ok = await sendJson(ctx, "PUT", "/api/account/profile", { display_name: "New Name", bio: "line one\nline two", pronouns: "they/them", custom_status: "busy" }, s.headers);
    expect(ok.status).toBe(200);
    expect(ok.body.display_name).toBe("New Name");
    expect(ok.body.bio).toBe("line one\nline two");
    expect((await sendJson(ctx, "DELETE", "/api/account", { password: "wrong wrong wrong" }, s.headers)).status).toBe(400);
    expect((await sendJson(ctx, "DELETE", "/api/account", { password: TEST_PASSWORD }, s.headers)).status).toBe(204);
    expect((await getJson(ctx, "/api/account/me", s.headers)).status).toBe(401);
    expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", user.id).executeTakeFirst()).toBeUndefined();
  });

  test("a deletion blocker (e.g. owning a community) refuses with a clear message and deletes nothing", async () => {
    const { registerAccountDeletionBlocker } = await import("../../../src/features/auth/index.ts");
    const user = await createUser(ctx);
    const s = await signIn(ctx, user);
    const unregister = registerAccountDeletionBlocker(async (_db, userId) => (userId === user.id ? "You own the community “Test”. Transfer or delete it first." : null));
    try {
      const r = await sendJson(ctx, "DELETE", "/api/account", { password: TEST_PASSWORD }, s.headers);
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe("ACCOUNT_DELETION_BLOCKED");
      expect(r.body.error.message).toContain("Transfer or delete it first");
      expect((await getJson(ctx, "/api/account/me", s.headers)).status).toBe(200);
    } finally {
      unregister();
    }
  });
});
