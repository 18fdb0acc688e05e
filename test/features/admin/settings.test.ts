/**
 * The Settings tab (issue 15 §1, docs/admin.md "Settings"): the effective configuration with
 * every secret redacted (no secret value anywhere in the page or the JSON), and the runtime
 * registration and community-creation modes: persisted, audited, the environment's value the
 * default, and the runtime value what registration and community creation actually obey.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Config } from "../../../src/config.ts";
import { redactedConfig } from "../../../src/features/server-settings/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, TEST_PASSWORD } from "../../helpers/users.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";

const SECRETS = {
  SMTP_HOST: "smtp.example.test",
  SMTP_PASSWORD: "smtp-pw-Zq81x",
  SMTP_USERNAME: "mailer",
  EMAIL_FROM: "hearth@example.test",
  GIPHY_API_KEY: "giphy-key-Wr0x2",
  TURN_AUTH_SECRET: "turn-secret-Yb7c3",
  METRICS_TOKEN: "metrics-token-Pp4d5a6b7c8d9e0f",
  SETUP_TOKEN: "setup-token-Kk9e6-long-enough-0123456789",
};

let ctx: TestContext;
let admin: Client;

beforeAll(async () => {
  // Invite-only registration and admin-only communities by environment; the tab overrides them.
  ctx = await communityTestContext({ ...SECRETS, REGISTRATION_MODE: "invite_only", COMMUNITY_CREATION_MODE: "admin_only" });
  admin = await client(ctx, { isAdmin: true, adminPowers: ["server_settings"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

/** Every secret-like value of a config, found by the same field names a reviewer would look for. */
function secretValuesOf(config: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, name: string) => {
    if (typeof v === "string" && /secret|password|token|key|credential/i.test(name) && !/public/i.test(name) && v.length >= 6) out.push(v);
    else if (v && typeof v === "object") for (const [k, inner] of Object.entries(v)) walk(inner, Array.isArray(v) ? name : k);
  };
  walk(config, "");
  return out;
}

describe("effective configuration", () => {
  test("the page and the JSON show no secret value (those of this instance's configuration)", async () => {
    const secrets = secretValuesOf(ctx.config);
    expect(secrets).toEqual(expect.arrayContaining([SECRETS.SMTP_PASSWORD, SECRETS.GIPHY_API_KEY, SECRETS.TURN_AUTH_SECRET, SECRETS.METRICS_TOKEN, SECRETS.SETUP_TOKEN]));
    const html = await (await ctx.request("/admin/settings", { headers: (await cookieSignIn(ctx, admin.user)).headers })).text();
    const json = JSON.stringify(await expectOk(admin.call("GET", "/api/admin/settings")));
    for (const secret of secrets) {
      expect(html).not.toContain(secret);
      expect(json).not.toContain(secret);
    }
    expect(html).toContain("smtp.example.test"); // not a secret: shown
    expect(html).toContain("(set, redacted)");
  });

  test("every kind of secret field is redacted, URLs lose their user info and query", () => {
    const full = {
      ...ctx.config,
      databaseUrl: "postgres://hearth:db-pw-Aa1@db.internal:5432/hearth?sslpassword=ssl-pw-Bb2",
      redisUrl: "redis://:redis-pw-Cc3@redis.internal:6379",
      oidc: { issuerUrl: "https://id.example.test", clientId: "hearth", clientSecret: "oidc-secret-Dd4", redirectUri: undefined, disablePasswordLogin: false },
      github: { token: "gh-token-Ee5", owner: "o", repo: "r" },
      vapid: { privateKey: "vapid-private-Ff6", publicKey: "vapid-public", subject: "mailto:a@b.c" },
      files: { ...ctx.config.files, storage: { kind: "s3", bucket: "b", prefix: "", endpoint: "https://s3.example.test", region: "auto", accessKeyId: "s3-access-Gg7", secretAccessKey: "s3-secret-Hh8" } },
      iceServers: [{ urls: "turn:turn.example.test", username: "u", credential: "ice-cred-Ii9" }],
    } as unknown as Config;
    const shown = JSON.stringify(redactedConfig(full));
    for (const secret of [...secretValuesOf(full), "db-pw-Aa1", "ssl-pw-Bb2", "redis-pw-Cc3"]) expect(shown).not.toContain(secret);
    expect(shown).toContain("db.internal:5432");
    expect(shown).toContain("s3.example.test");
  });
});

describe("runtime modes", () => {
  test("registration obeys the runtime mode; the environment's is the default; audited", async () => {
    const register = (username: string) =>
      ctx.request("/api/auth/register", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: TEST_PASSWORD }) });
    // The environment says invite_only: no code, no account.
    expect((await (await register("env_default_u")).json()).error.code).toBe("INVITE_REQUIRED");
    const open = await expectOk(admin.call("PUT", "/api/admin/settings", { registration_mode: "open" }));
    expect(open.runtime.registration_mode).toEqual({ value: "open", default: "invite_only", overridden: true });
    expect((await register("runtime_open_u")).status).toBe(201);
    expect((await (await ctx.request("/api/auth/config")).json()).registration_mode).toBe("open");
    expect(await (await ctx.request("/register")).text()).not.toContain('name="invite_code"');
    await expectOk(admin.call("PUT", "/api/admin/settings", { registration_mode: "closed" }));
    expect((await (await register("runtime_closed_u")).json()).error.code).toBe("REGISTRATION_CLOSED");
    // Back to the environment's value through the page's form.
    const cookies = { ...(await cookieSignIn(ctx, admin.user)).headers, "content-type": "application/x-www-form-urlencoded" };
    const form = await ctx.request("/admin/settings", { method: "POST", headers: cookies, body: "registration_mode=default&community_creation_mode=default" });
    expect(form.status).toBe(303);
    expect((await (await register("back_to_env_u")).json()).error.code).toBe("INVITE_REQUIRED");
    const audit = await ctx.database.db.selectFrom("audit_log").select("metadata").where("action", "=", "instance_setting_changed").orderBy("created_at").execute();
    expect(audit.map((a) => a.metadata)).toEqual([
      expect.objectContaining({ setting: "registration_mode", before: "invite_only", after: "open", overridden: true }),
      expect.objectContaining({ setting: "registration_mode", before: "open", after: "closed", overridden: true }),
      expect.objectContaining({ setting: "registration_mode", before: "closed", after: "invite_only", overridden: false }),
    ]);
  });

  test("community creation obeys the runtime mode (API and page)", async () => {
    const member = await client(ctx);
    const create = () => member.call("POST", "/api/communities", { name: "Member-made" });
    expect((await create()).body.error.code).toBe("COMMUNITY_CREATION_RESTRICTED");
    await expectOk(admin.call("PUT", "/api/admin/settings", { community_creation_mode: "anyone" }));
    expect((await create()).status).toBe(201);
    const memberCookies = (await cookieSignIn(ctx, member.user)).headers;
    expect(await (await ctx.request("/communities", { headers: memberCookies })).text()).toContain('id="create-community"');
    await expectOk(admin.call("PUT", "/api/admin/settings", { community_creation_mode: null }));
    expect((await create()).body.error.code).toBe("COMMUNITY_CREATION_RESTRICTED");
    expect(await (await ctx.request("/communities", { headers: memberCookies })).text()).not.toContain('id="create-community"');
    // An unknown mode is refused by the schema.
    expect((await admin.call("PUT", "/api/admin/settings", { community_creation_mode: "everyone" })).status).toBe(400);
    expect(await createUser(ctx)).toBeTruthy();
  });
});
