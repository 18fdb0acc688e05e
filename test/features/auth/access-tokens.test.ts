/**
 * Personal access tokens (issue 16 §3, docs/auth.md "API tokens"): shown once and stored hashed;
 * a read token reads and cannot send; a write token acts; no token reaches account security,
 * sign-in, admin routes or pages; revocation, expiry, suspension and "sign out everywhere" refuse
 * a token at once (its socket closes too); someone else's token id is a 404.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { connectWithToken, openSocket } from "../../helpers/ws.ts";
import { cookieSignIn } from "../../helpers/users.ts";
import { authKernelOf, suspendUser } from "../../../src/features/auth/index.ts";
import { expectOk, messagingContext, populatedCommunity, sendBody, withSockets, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;
let clock = Date.parse("2026-12-07T12:00:00Z");

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

const asToken = (token: string) => ({
  async call(method: string, path: string, body?: unknown) {
    const res = await ctx.request(path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {} // a page's HTML
    return { status: res.status, body: parsed, text };
  },
});

async function mint(who = p.member, scope: "read" | "write" = "read", expires_in_days: number | null = 30): Promise<{ token: string; id: string }> {
  const body = await expectOk(who.call("POST", "/api/account/tokens", { name: `${scope} bot`, scope, expires_in_days }), 201);
  return { token: body.token, id: body.access_token.id };
}

describe("personal access tokens", () => {
  test("shown once, stored as a hash, listed without the secret", async () => {
    const { token, id } = await mint();
    expect(token).toMatch(/^hth_pat_[A-Za-z0-9_-]{43}$/);
    const list = await expectOk(p.member.call("GET", "/api/account/tokens"));
    const listed = list.tokens.find((t: any) => t.id === id);
    expect(listed).toMatchObject({ name: "read bot", scope: "read", last_used_at: null });
    expect(JSON.stringify(list)).not.toContain(token);
    const row = await ctx.database.db.selectFrom("access_tokens").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.token_hash).toHaveLength(64);
    expect(row.token_hash).not.toContain(token.slice(8));
    // Not a signed-in device in the sessions list.
    const sessions = await expectOk(p.member.call("GET", "/api/account/sessions"));
    expect(sessions.every((s: any) => !String(s.device_name).startsWith("API token"))).toBe(true);
  });

  test("a read token reads history and cannot send, react or move the read cursor", async () => {
    await expectOk(p.member.call("POST", `/api/channels/${p.generalChannelId}/messages`, sendBody()), 201);
    const { token } = await mint(p.member, "read");
    const bot = asToken(token);
    clock += 61_000; // last use is written at most once a minute
    const history = await bot.call("GET", `/api/channels/${p.generalChannelId}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.messages.length).toBeGreaterThan(0);
    expect((await bot.call("GET", "/api/account/me")).body.id).toBe(p.member.user.id);
    for (const [method, path, body] of [
      ["POST", `/api/channels/${p.generalChannelId}/messages`, sendBody()],
      ["PUT", `/api/channels/${p.generalChannelId}/read`, { seq: 1 }],
      ["PUT", `/api/messages/${history.body.messages[0].id}/reactions/%F0%9F%91%8D`, undefined],
    ] as const) {
      const r = await bot.call(method, path, body);
      expect([method, path, r.status, r.body.error.code]).toEqual([method, path, 403, "TOKEN_SCOPE"]);
    }
    const listed = (await expectOk(p.member.call("GET", "/api/account/tokens"))).tokens;
    expect(listed.some((t: any) => t.last_used_at !== null)).toBe(true);
    clock -= 61_000;
  });

  test("a write token sends as its user", async () => {
    const { token } = await mint(p.member, "write");
    const sent = await asToken(token).call("POST", `/api/channels/${p.generalChannelId}/messages`, sendBody());
    expect(sent.status).toBe(201);
    expect(sent.body.message.sender_id ?? sent.body.message.senderId).toBe(p.member.user.id);
  });

  test("no token reaches account security, sign-in, tokens, admin routes or pages", async () => {
    const { token } = await mint(p.owner, "write");
    const bot = asToken(token);
    const cases: [string, string, unknown][] = [
      ["PUT", "/api/account/password", { current_password: "x", new_password: "y" }],
      ["DELETE", "/api/account", { password: "x" }],
      ["GET", "/api/account/sessions", undefined],
      ["POST", "/api/account/logout-all", undefined],
      ["GET", "/api/account/tokens", undefined],
      ["POST", "/api/account/tokens", { name: "child", scope: "write" }],
      ["POST", "/api/auth/logout", undefined],
      ["GET", "/api/admin/audit-log", undefined],
      ["POST", "/api/admin/invites", {}],
      ["GET", "/settings/account", undefined],
      ["GET", "/admin/invites", undefined],
    ];
    for (const [method, path, body] of cases) {
      const r = await bot.call(method, path, body);
      // A page answers with its HTML error page, which says why.
      const code = r.body?.error?.code ?? (r.text.includes("API tokens cannot manage the account") ? "TOKEN_NOT_ALLOWED" : r.text.slice(0, 80));
      expect([method, path, r.status, code]).toEqual([method, path, 403, "TOKEN_NOT_ALLOWED"]);
    }
    expect(await ctx.database.db.selectFrom("access_tokens").select("id").where("name", "=", "child").executeTakeFirst()).toBeUndefined();
  });

  test("unknown, malformed, revoked and expired tokens are refused with 401 TOKEN_INVALID", async () => {
    const { token, id } = await mint(p.member, "read", 7);
    const bot = asToken(token);
    expect((await bot.call("GET", "/api/account/me")).status).toBe(200);
    expect(await expectOk(p.member.call("DELETE", `/api/account/tokens/${id}`), 204)).toBeNull();
    const revoked = await bot.call("GET", "/api/account/me");
    expect([revoked.status, revoked.body.error.code]).toEqual([401, "TOKEN_INVALID"]);
    for (const bad of ["hth_pat_" + "A".repeat(43), "hth_pat_short", "hth_pat_" + "é".repeat(43)]) {
      const r = await asToken(bad).call("GET", "/api/account/me");
      expect([r.status, r.body.error.code]).toEqual([401, "TOKEN_INVALID"]);
    }
    const later = await mint(p.member, "read", 7);
    clock += 8 * 24 * 3600 * 1000;
    try {
      const expired = await asToken(later.token).call("GET", "/api/account/me");
      expect([expired.status, expired.body.error.code]).toEqual([401, "TOKEN_INVALID"]);
      const { listAccessTokens } = await import("../../../src/features/auth/access-tokens.ts");
      expect((await listAccessTokens(ctx.database.db, p.member.user.id, new Date(clock))).some((t) => t.id === later.id)).toBe(false);
    } finally {
      clock -= 8 * 24 * 3600 * 1000;
    }
  });

  test("someone else's token id or an unknown one: 404 TOKEN_NOT_FOUND (a malformed id: 400); the token keeps working", async () => {
    const { token, id } = await mint(p.member);
    for (const who of [p.outsider, p.owner]) {
      const r = await who.call("DELETE", `/api/account/tokens/${id}`);
      expect([r.status, r.body.error.code]).toEqual([404, "TOKEN_NOT_FOUND"]);
    }
    expect((await p.member.call("DELETE", "/api/account/tokens/not-a-uuid")).status).toBe(400);
    expect((await p.member.call("DELETE", `/api/account/tokens/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await asToken(token).call("GET", "/api/account/me")).status).toBe(200);
  });

  test("bad creation input: name, scope, expiry; at most 25 live tokens", async () => {
    for (const body of [{ name: "", scope: "read" }, { name: "x".repeat(65), scope: "read" }, { name: "a", scope: "admin" }, { name: "a", scope: "read", expires_in_days: 3 }]) {
      const r = await p.admin.call("POST", "/api/account/tokens", body);
      expect(r.status).toBe(400);
    }
    const tokens = [];
    for (let i = 0; i < 25; i++) tokens.push(await mint(p.admin, "read", null));
    const over = await p.admin.call("POST", "/api/account/tokens", { name: "one more", scope: "read" });
    expect([over.status, over.body.error.code]).toEqual([409, "TOO_MANY_TOKENS"]);
    await expectOk(p.admin.call("DELETE", `/api/account/tokens/${tokens[0]!.id}`), 204);
    await expectOk(p.admin.call("POST", "/api/account/tokens", { name: "one more", scope: "read" }), 201);
    expect((await expectOk(p.admin.call("GET", "/api/account/tokens"))).tokens).toHaveLength(25);
  });

  test("a write token opens a socket; revoking it closes the socket; a read token gets no socket", async () => {
    const { ws } = await withSockets(ctx);
    const write = await mint(p.moderator, "write");
    const socket = await connectWithToken(ws, write.token);
    await expectOk(p.moderator.call("DELETE", `/api/account/tokens/${write.id}`), 204);
    const closed = await socket.closed;
    expect(closed.code).toBeGreaterThanOrEqual(4000);
    const read = await mint(p.moderator, "read");
    const refused = openSocket(ws);
    await refused.opened;
    refused.send({ type: "auth", token: read.token });
    const answer = await Promise.race([refused.closed.then((c) => ({ type: "closed", code: c.code })), refused.nextFrame().then((f) => f)]);
    expect(answer.type).not.toBe("hello");
    refused.close();
  });

  test("sign out everywhere and suspension end every token", async () => {
    const a = await mint(p.moderator, "read");
    await expectOk(p.moderator.call("POST", "/api/account/logout-all"));
    expect((await asToken(a.token).call("GET", "/api/account/me")).status).toBe(401);
    const b = await mint(p.outsider, "read");
    await suspendUser(authKernelOf(ctx.deps), null, p.outsider.user.id, "test");
    expect((await asToken(b.token).call("GET", "/api/account/me")).status).toBe(401);
  });

  test("the settings page: create shows the secret once with a copy button, the list never; revoke by someone else is a 404", async () => {
    const owner = await cookieSignIn(ctx, p.owner.user);
    const form = (fields: Record<string, string>) => ({ method: "POST", headers: { ...owner.headers, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
    const created = await ctx.request("/settings/tokens", form({ name: "page bot", scope: "write", expires_in_days: "never" }));
    const html = await created.text();
    expect(created.status).toBe(200);
    const secret = /hth_pat_[A-Za-z0-9_-]{43}/.exec(html)?.[0];
    expect(secret).toBeDefined();
    expect(html).toContain('data-copy-target="token-secret"');
    const list = await (await ctx.request("/settings/tokens", { headers: owner.headers })).text();
    expect(list).toContain("page bot");
    expect(list).not.toContain(secret!);
    const bad = await ctx.request("/settings/tokens", form({ name: "", scope: "read", expires_in_days: "30" }));
    expect(bad.status).toBe(422);
    const id = (await expectOk(p.owner.call("GET", "/api/account/tokens"))).tokens.find((t: any) => t.name === "page bot").id;
    const stranger = await cookieSignIn(ctx, p.member.user);
    const refused = await ctx.request(`/settings/tokens/${id}/revoke`, { method: "POST", headers: stranger.headers });
    expect(refused.status).toBe(404);
    expect((await asToken(secret!).call("GET", "/api/account/me")).status).toBe(200);
    const revoked = await ctx.request(`/settings/tokens/${id}/revoke`, { method: "POST", headers: owner.headers });
    expect(revoked.status).toBe(303);
    expect((await asToken(secret!).call("GET", "/api/account/me")).status).toBe(401);
  });

  test("creation and revocation are audited with the token's name, never its secret", async () => {
    const { token, id } = await mint(p.owner, "read");
    await expectOk(p.owner.call("DELETE", `/api/account/tokens/${id}`), 204);
    const rows = await ctx.database.db.selectFrom("audit_log").select(["action", "metadata"]).where("target_id", "=", id).execute();
    expect(rows.map((r) => r.action).sort()).toEqual(["access_token_created", "access_token_revoked"]);
    expect(JSON.stringify(rows)).not.toContain(token);
  });
});
