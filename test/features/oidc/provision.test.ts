/**
 * Provisioning rules of SSO sign-in against a real database (the browser flow is in oidc-flow.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser } from "../../helpers/users.ts";
import { runInTransaction } from "../../../src/db/tx.ts";
import { deriveUsername, signInWithOidc, type VerifiedClaims } from "../../../src/features/oidc/index.ts";
import { loadConfig } from "../../../src/config.ts";
import { AppError } from "../../../src/errors.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
  await createUser(ctx, { isOwner: true }); // the instance is set up
});
afterAll(() => ctx.close());

const meta = { ip: "127.0.0.1", userAgent: "test" };
let n = 0;
const claims = (over: Partial<VerifiedClaims> = {}): VerifiedClaims => {
  n++;
  return { issuer: "https://idp.example", subject: `sub-${n}-${crypto.randomUUID()}`, email: `person${n}.${Date.now()}@idp.example`, emailVerified: true, preferredUsername: `person${n}`, name: `Person ${n}`, ...over };
};
const config = (env: Record<string, string> = {}) => loadConfig({ ...env });
const run = (c: VerifiedClaims, env: Record<string, string> = {}, invite?: string) =>
  runInTransaction({ db: ctx.database.db, events: ctx.deps.events }, (tx) => signInWithOidc(tx, config(env), c, { meta, now: new Date(), invite }));
const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
};

describe("deriveUsername", () => {
  test.each([
    ["alice", "alice"],
    ["Zoë Müller", "ZoeMuller"],
    ["..evil..name..", "evil.name"],
    ["ab", "abuser"],
    ["<script>alert(1)</script>", "scriptalert1script"],
    ["x".repeat(60), "x".repeat(32)],
  ])("%s -> %s", (input, expected) => expect(deriveUsername(input, undefined)).toBe(expected));
  test("falls back to the email's local part", () => expect(deriveUsername(undefined, "bob.smith@x.y")).toBe("bob.smith"));
});

describe("signInWithOidc", () => {
  test("open mode provisions an account once, then signs the same identity in", async () => {
    const c = claims();
    const first = await run(c, { REGISTRATION_MODE: "open" });
    expect(first.created).toBe(true);
    const again = await run(c, { REGISTRATION_MODE: "open" });
    expect(again).toEqual({ userId: first.userId, username: first.username, created: false, linked: false });
    const row = await ctx.database.db.selectFrom("users").select(["password_hash", "oidc_subject", "email"]).where("id", "=", first.userId).executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
    expect(row.oidc_subject).toBe(c.subject);
  });

  test("a taken username gets a numeric suffix", async () => {
    const existing = await createUser(ctx, { username: `taken${Date.now() % 100000}` });
    const result = await run(claims({ preferredUsername: existing.username }), { REGISTRATION_MODE: "open" });
    expect(result.username).toBe(`${existing.username}2`);
  });

  test("closed mode refuses new accounts; invite_only needs a valid invite, consumed once", async () => {
    expect(await codeOf(run(claims(), { REGISTRATION_MODE: "closed" }))).toBe("REGISTRATION_CLOSED");
    expect(await codeOf(run(claims(), { REGISTRATION_MODE: "invite_only" }))).toBe("INVITE_REQUIRED");
    expect(await codeOf(run(claims(), { REGISTRATION_MODE: "invite_only" }, "NOPE"))).toBe("INVALID_INVITE");
    const code = `INV${Date.now()}`;
    await ctx.database.db.insertInto("registration_invites").values({ id: Bun.randomUUIDv7(), code, max_uses: 1, uses: 0, created_at: new Date() }).execute();
    expect(await codeOf(run(claims(), { REGISTRATION_MODE: "invite_only" }, code))).toBe("ok");
    expect(await codeOf(run(claims(), { REGISTRATION_MODE: "invite_only" }, code))).toBe("INVALID_INVITE");
  });

  test("an existing account is linked only through an email both the provider and Hearth confirmed; then invite_only needs no invite", async () => {
    const user = await createUser(ctx, { email: `pre${Date.now()}@corp.example` });
    await ctx.database.db.updateTable("users").set({ email_verified_at: new Date() }).where("id", "=", user.id).execute();
    expect(await codeOf(run(claims({ email: user.email, emailVerified: false }), { REGISTRATION_MODE: "open" }))).toBe("EMAIL_TAKEN");
    const linked = await run(claims({ email: user.email.toUpperCase(), emailVerified: true }), { REGISTRATION_MODE: "invite_only" });
    expect(linked).toMatchObject({ userId: user.id, created: false, linked: true });
  });

  test("pre-hijacking: an account that typed someone's address but never confirmed it is not linked; the SSO person gets a new account and the address", async () => {
    const victimEmail = `victim${Date.now()}@corp.example`;
    const squatter = await createUser(ctx, { email: victimEmail });
    const result = await run(claims({ email: victimEmail, emailVerified: true, preferredUsername: "victim" }), { REGISTRATION_MODE: "open" });
    expect(result.created).toBe(true);
    expect(result.userId).not.toBe(squatter.id);
    const rows = await ctx.database.db.selectFrom("users").select(["id", "email", "oidc_subject"]).where("id", "in", [squatter.id, result.userId]).execute();
    expect(rows.find((r) => r.id === squatter.id)).toMatchObject({ email: null, oidc_subject: null });
    expect(rows.find((r) => r.id === result.userId)!.email).toBe(victimEmail);
    const audit = await ctx.database.db.selectFrom("audit_log").select(["action", "metadata"]).where("target_id", "=", squatter.id).where("action", "=", "email_released").execute();
    expect(audit).toHaveLength(1);
    // The squatter's password still opens only the squatter's own account.
    const signedIn = await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json", origin: "http://localhost" }, body: JSON.stringify({ username: squatter.username, password: squatter.password }) });
    expect(signedIn.status).toBe(200);
    expect((await signedIn.json()).user.id).toBe(squatter.id);
  });

  test("suspended and locked-out accounts cannot sign in by SSO", async () => {
    const c = claims();
    const { userId, username } = await run(c, { REGISTRATION_MODE: "open" });
    await ctx.database.db.insertInto("login_attempts").values({ key: `login:${username.toLowerCase()}`, failures: 10, last_failure_at: new Date(), locked_until: new Date(Date.now() + 600_000) }).execute();
    expect(await codeOf(run(c))).toBe("ACCOUNT_LOCKED");
    await ctx.database.db.deleteFrom("login_attempts").where("key", "=", `login:${username.toLowerCase()}`).execute();
    await ctx.database.db.updateTable("users").set({ suspended_at: new Date() }).where("id", "=", userId).execute();
    expect(await codeOf(run(c))).toBe("ACCOUNT_SUSPENDED");
  });

  test("ADMIN_USERNAME is granted admin on provisioning", async () => {
    const name = `boss${Date.now() % 100000}`;
    const { userId } = await run(claims({ preferredUsername: name }), { REGISTRATION_MODE: "open", ADMIN_USERNAME: name });
    const row = await ctx.database.db.selectFrom("users").select(["is_admin", "admin_powers"]).where("id", "=", userId).executeTakeFirstOrThrow();
    expect(row.is_admin).toBe(true);
    expect(row.admin_powers.length).toBeGreaterThan(5);
  });

  test("without any user, SSO cannot create the first (owner) account", async () => {
    const empty = await createTestContext();
    try {
      const result = await codeOf(runInTransaction({ db: empty.database.db, events: empty.deps.events }, (tx) => signInWithOidc(tx, config({ REGISTRATION_MODE: "open" }), claims(), { meta, now: new Date() })));
      expect(result).toBe("SETUP_REQUIRED");
    } finally {
      await empty.close();
    }
  });
});
