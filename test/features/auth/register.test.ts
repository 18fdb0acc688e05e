import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";

import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { authKernelOf, hashPassword } from "../../../src/features/auth/index.ts";
import * as passwords from "../../../src/features/auth/passwords.ts";
import { registerUser } from "../../../src/features/auth/register.ts";
import { ensureSetupToken, grantConfiguredAdmin } from "../../../src/features/auth/setup.ts";
import { newAccount, postJson, getJson } from "./helpers.ts";

type Mode = "open" | "invite_only" | "closed";
const contexts: Partial<Record<Mode, { ctx: TestContext; clock: { now: number }; owner: { headers: Record<string, string> } }>> = {};

beforeAll(async () => {
  for (const mode of ["open", "invite_only", "closed"] as Mode[]) {
    const clock = { now: Date.now() };
    const ctx = await createTestContext({ env: { REGISTRATION_MODE: mode }, now: () => clock.now });
    const owner = await signIn(ctx, await createUser(ctx, { isOwner: true }));
    contexts[mode] = { ctx, clock, owner };
  }
}, 60_000);
afterAll(async () => {
  for (const c of Object.values(contexts)) await c!.ctx.close();
});

async function makeInvite(mode: Mode, kind: "valid" | "expired" | "used_up"): Promise<string> {
  const c = contexts[mode]!;
  const created = await postJson(c.ctx, "/api/admin/invites", { max_uses: 1, expires_in_hours: 1 }, c.owner.headers);
  expect(created.status).toBe(201);
  const code = created.body.code as string;
  if (kind === "expired") {
    await c.ctx.database.db.updateTable("registration_invites").set({ expires_at: new Date(c.clock.now - 1000) }).where("code", "=", code).execute();
  }
  if (kind === "used_up") {
    await c.ctx.database.db.updateTable("registration_invites").set({ uses: 1 }).where("code", "=", code).execute();
  }
  return code;
}

const expected: Record<Mode, Record<"none" | "valid" | "expired" | "used_up", number | string>> = {
  open: { none: 201, valid: 201, expired: 201, used_up: 201 },
  invite_only: { none: "INVITE_REQUIRED", valid: 201, expired: "INVITE_INVALID", used_up: "INVITE_INVALID" },
  closed: { none: "REGISTRATION_CLOSED", valid: "REGISTRATION_CLOSED", expired: "REGISTRATION_CLOSED", used_up: "REGISTRATION_CLOSED" },
};

describe("registration mode matrix", () => {
  for (const mode of ["open", "invite_only", "closed"] as Mode[]) {
    for (const invite of ["none", "valid", "expired", "used_up"] as const) {
      test(`${mode} × ${invite} invite`, async () => {
        const c = contexts[mode]!;
        const code = invite === "none" ? undefined : await makeInvite(mode, invite);
        const r = await postJson(c.ctx, "/api/auth/register", { ...newAccount(), invite_code: code });
        const want = expected[mode][invite];
        if (want === 201) {
          expect(r.status).toBe(201);
          expect(r.body.access_token).toBeString();
          expect(r.body.refresh_token).toBeString();
          expect(r.body.recovery_code).toMatch(/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/);
          expect(r.body.user.is_admin).toBe(false);
          expect(r.body.user.is_owner).toBe(false);
          const me = await getJson(c.ctx, "/api/account/me", { authorization: `Bearer ${r.body.access_token}` });
          expect(me.body.username).toBe(r.body.user.username);
        } else {
          expect(r.status).toBe(403);
          expect(r.body.error.code).toBe(want);
          expect(r.body.error.message).toBeString();
        }
      });
    }
  }

  test("a valid invite is spent: a second use of a one-use invite is refused", async () => {
    const c = contexts.invite_only!;
    const code = await makeInvite("invite_only", "valid");
    expect((await postJson(c.ctx, "/api/auth/register", { ...newAccount(), invite_code: code })).status).toBe(201);
    const again = await postJson(c.ctx, "/api/auth/register", { ...newAccount(), invite_code: code });
    expect(again.body.error.code).toBe("INVITE_INVALID");
  });

  test("a registration that will be refused costs no password hash (Argon2 is ~165 ms and 64 MiB each)", async () => {
    const spy = spyOn(passwords, "hashPassword");
    try {
      const refused: [Mode, string | undefined, string][] = [
        ["closed", undefined, "REGISTRATION_CLOSED"],
        ["invite_only", undefined, "INVITE_REQUIRED"],
        ["invite_only", "ZZZZ-ZZZZ-ZZZZ", "INVITE_INVALID"],
        ["invite_only", await makeInvite("invite_only", "expired"), "INVITE_INVALID"],
        ["invite_only", await makeInvite("invite_only", "used_up"), "INVITE_INVALID"],
      ];
      for (const [mode, code, want] of refused) {
        const r = await postJson(contexts[mode]!.ctx, "/api/auth/register", { ...newAccount(), invite_code: code });
        expect(r.body.error.code).toBe(want);
      }
      const bad = await postJson(contexts.open!.ctx, "/api/auth/register", { ...newAccount(), setup_token: "not-the-token" });
      expect(bad.body.error.code).toBe("SETUP_TOKEN_INVALID");
      expect(spy).toHaveBeenCalledTimes(0);
      // The check is not a blanket skip: an accepted registration hashes once.
      const ok = await postJson(contexts.invite_only!.ctx, "/api/auth/register", { ...newAccount(), invite_code: await makeInvite("invite_only", "valid") });
      expect(ok.status).toBe(201);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  test("20 concurrent registrations on a one-use invite create exactly one account", async () => {
    const c = contexts.invite_only!;
    const code = await makeInvite("invite_only", "valid");
    const passwordHash = await hashPassword("a quiet harbour at dusk 7");
    const kernel = authKernelOf(c.ctx.deps);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => registerUser(kernel, { ...newAccount(), inviteCode: code }, { ip: "127.0.0.1", userAgent: null }, { passwordHash })),
    );
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as { code: string }).code).toBe("INVITE_INVALID");
    const invite = await c.ctx.database.db.selectFrom("registration_invites").select("uses").where("code", "=", code).executeTakeFirstOrThrow();
    expect(invite.uses).toBe(1);
  });
});

describe("registration rules", () => {
  test("field rules answer 400 with the field named", async () => {
    const c = contexts.open!;
    const cases: [Record<string, string>, string][] = [
      [{ username: "ab" }, "username"],
      [{ username: "-lead" }, "username"],
      [{ username: "a..b" }, "username"],
      [{ username: "tail." }, "username"],
      [{ username: "x".repeat(33) }, "username"],
      [{ email: "not-an-email" }, "email"],
      [{ password: "short" }, "password"],
      [{ password: "x".repeat(129) }, "password"],
      [{ password: "password123" }, "password"],
      [{ username: "samename12", password: "samename12" }, "password"],
    ];
    for (const [override, field] of cases) {
      const r = await postJson(c.ctx, "/api/auth/register", newAccount(override));
      expect(r.status).toBe(400);
      expect(Object.keys(r.body.error.fields)).toContain(field);
    }
  });

  test("duplicates answer 409, case-insensitively, never 500", async () => {
    const c = contexts.open!;
    const first = newAccount();
    expect((await postJson(c.ctx, "/api/auth/register", first)).status).toBe(201);
    const sameName = await postJson(c.ctx, "/api/auth/register", newAccount({ username: first.username.toUpperCase() }));
    expect(sameName.status).toBe(409);
    expect(sameName.body.error.code).toBe("USERNAME_TAKEN");
    const sameEmail = await postJson(c.ctx, "/api/auth/register", newAccount({ email: first.email.toUpperCase() }));
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.error.code).toBe("EMAIL_TAKEN");
  });

  test("the email is optional (issue 13 §8): absent or empty, by the API and by the form; two accounts without one do not collide", async () => {
    const c = contexts.open!;
    const { email: _omit, ...noEmail } = newAccount();
    const api = await postJson(c.ctx, "/api/auth/register", noEmail);
    expect(api.status).toBe(201);
    const empty = await postJson(c.ctx, "/api/auth/register", newAccount({ email: "   " }));
    expect(empty.status).toBe(201);
    const stored = await c.ctx.database.db.selectFrom("users").select(["username", "email"]).where("username", "in", [noEmail.username, empty.body.user.username]).execute();
    expect(stored.map((u) => u.email)).toEqual([null, null]);
    const form = newAccount();
    const res = await c.ctx.request("/register", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
      body: new URLSearchParams({ username: form.username, email: "", password: form.password }).toString(),
    });
    expect(res.status).toBeLessThan(400);
    const viaForm = await c.ctx.database.db.selectFrom("users").select("email").where("username", "=", form.username).executeTakeFirstOrThrow();
    expect(viaForm.email).toBeNull();
    // The form says it is optional, and why.
    const page = await c.ctx.request("/register", { headers: {} });
    expect(await page.text()).toContain("Email (optional)");
  });

  test("a malformed body is a clean 400", async () => {
    const c = contexts.open!;
    const r = await postJson(c.ctx, "/api/auth/register", { username: 5 });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).not.toContain("schema");
  });
});

describe("new instance", () => {
  test("without the setup token registration is refused; with it the account is owner and admin; the token is single-use", async () => {
    const ctx = await createTestContext({ env: { REGISTRATION_MODE: "closed", SETUP_TOKEN: "preset-setup-token-123456" } });
    try {
      const token = await ensureSetupToken(ctx.deps);
      expect(token).toBe("preset-setup-token-123456");
      const stored = await ctx.database.db.selectFrom("instance_settings").select("value").where("key", "=", "setup_token_hash").executeTakeFirstOrThrow();
      expect(JSON.stringify(stored.value)).not.toContain("preset-setup-token");
      const config = await getJson(ctx, "/api/auth/config");
      expect(config.body.setup_required).toBe(true);
      const without = await postJson(ctx, "/api/auth/register", newAccount());
      expect(without.status).toBe(403);
      expect(without.body.error.code).toBe("SETUP_TOKEN_REQUIRED");
      const wrong = await postJson(ctx, "/api/auth/register", { ...newAccount(), setup_token: "nope" });
      expect(wrong.body.error.code).toBe("SETUP_TOKEN_INVALID");
      const results = await Promise.all([
        postJson(ctx, "/api/auth/register", { ...newAccount(), setup_token: token }),
        postJson(ctx, "/api/auth/register", { ...newAccount(), setup_token: token }),
      ]);
      const ok = results.filter((r) => r.status === 201);
      expect(ok.length).toBe(1);
      expect(ok[0]!.body.user.is_owner).toBe(true);
      expect(ok[0]!.body.user.is_admin).toBe(true);
      expect(ok[0]!.body.user.admin_powers).toEqual(["*"]);
      expect(await ensureSetupToken(ctx.deps)).toBeNull();
    } finally {
      await ctx.close();
    }
  });

  test("ADMIN_USERNAME grants admin on registration and at startup", async () => {
    const ctx = await createTestContext({ env: { REGISTRATION_MODE: "open", ADMIN_USERNAME: "Chief_admin" } });
    try {
      await createUser(ctx, { isOwner: true });
      const r = await postJson(ctx, "/api/auth/register", newAccount({ username: "chief_admin" }));
      expect(r.status).toBe(201);
      expect(r.body.user.is_admin).toBe(true);
      expect(r.body.user.is_owner).toBe(false);
      await ctx.database.db.updateTable("users").set({ is_admin: false, admin_powers: [] }).where("id", "=", r.body.user.id).execute();
      await grantConfiguredAdmin(ctx.deps);
      const row = await ctx.database.db.selectFrom("users").select(["is_admin", "admin_powers"]).where("id", "=", r.body.user.id).executeTakeFirstOrThrow();
      expect(row.is_admin).toBe(true);
      expect(row.admin_powers).toContain("audit");
      const audit = await ctx.database.db.selectFrom("audit_log").select("action").where("target_id", "=", r.body.user.id).execute();
      expect(audit.map((a) => a.action)).toContain("admin_granted");
    } finally {
      await ctx.close();
    }
  });
});
