/**
 * GET /api/account/turn-credentials (seeds/000 "TURN hardening"): minted credentials in the TURN
 * REST format coturn's use-auth-secret checks, the TTL clamp, the STUN-only answer without TURN
 * (plus the deprecated ICE_SERVERS), authentication and the per-user rate limit — and, against
 * the real coturn started with compose.yml's flags: what Hearth mints allocates, an expired
 * credential (TTL 60 s, Hearth's clock 61 s behind) and forged ones are refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_STUN_URLS, TURN_CREDENTIALS_RATE } from "../../../src/features/voice/index.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { StunClient, haveCoturn, startCoturn, type Coturn } from "../../ops/coturn.ts";

if (!haveCoturn) console.log("test/features/voice/turn-credentials.test.ts: [skip] the coturn checks: turnserver/openssl not installed (apt-get install -y coturn)");

const SECRET = randomBytes(32).toString("hex");
const TURN_ENV = { TURN_AUTH_SECRET: SECRET, TURN_URLS: "turns:turn.example.test:5349,turn:turn.example.test:3478?transport=udp" };
const contexts: TestContext[] = [];

async function context(env: Record<string, string>, now?: () => number): Promise<TestContext> {
  const ctx = await createTestContext({ env, now });
  contexts.push(ctx);
  return ctx;
}

async function credentialsOf(ctx: TestContext, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }> {
  const user = await createUser(ctx);
  const res = await ctx.request("/api/account/turn-credentials", { headers: headers ?? (await signIn(ctx, user)).headers });
  return { status: res.status, headers: res.headers, body: { ...(await res.json()), userId: user.id } };
}

afterAll(async () => {
  for (const ctx of contexts) await ctx.close();
});

describe("minting", () => {
  test("TURN configured: {urls, username '{expiry}:{user id}', credential base64(HMAC-SHA1(secret, username)), ttl}, ready-made iceServers, never cached", async () => {
    const fixed = Date.parse("2026-03-01T12:00:00.500Z");
    const ctx = await context({ ...TURN_ENV, TURN_CREDENTIAL_TTL_SECS: "600" }, () => fixed);
    const { status, headers, body } = await credentialsOf(ctx);
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("no-store");
    const expiry = Math.floor(fixed / 1000) + 600;
    const username = `${expiry}:${body.userId}`;
    const credential = createHmac("sha1", SECRET).update(username).digest("base64");
    expect(body).toEqual({
      userId: body.userId,
      urls: ["turns:turn.example.test:5349", "turn:turn.example.test:3478?transport=udp"],
      username,
      credential,
      ttl: 600,
      expiresAt: new Date(expiry * 1000).toISOString(),
      iceServers: [{ urls: ["stun:turn.example.test:3478"] }, { urls: ["turns:turn.example.test:5349", "turn:turn.example.test:3478?transport=udp"], username, credential }],
    });
  });

  test("TURN_CREDENTIAL_TTL_SECS is clamped to 60–86400", async () => {
    expect((await credentialsOf(await context({ ...TURN_ENV, TURN_CREDENTIAL_TTL_SECS: "5" }))).body.ttl).toBe(60);
    expect((await credentialsOf(await context({ ...TURN_ENV, TURN_CREDENTIAL_TTL_SECS: "999999" }))).body.ttl).toBe(86_400);
    expect((await credentialsOf(await context(TURN_ENV))).body.ttl).toBe(3600);
  });

  test("without TURN: a STUN-only answer; the deprecated ICE_SERVERS replaces the default STUN", async () => {
    const none = (await credentialsOf(await context({}))).body;
    expect(none).toMatchObject({ urls: [], username: null, credential: null, ttl: null, expiresAt: null, iceServers: [{ urls: [...DEFAULT_STUN_URLS] }] });
    // A secret alone (generate-secrets.sh always writes one) is not TURN: no URLs to use it with.
    expect((await credentialsOf(await context({ TURN_AUTH_SECRET: SECRET }))).body).toMatchObject({ username: null, iceServers: [{ urls: [...DEFAULT_STUN_URLS] }] });
    const legacy = [{ urls: "stun:stun.example.test:3478" }, { urls: ["turn:relay.example.test:3478"], username: "u", credential: "c" }];
    expect((await credentialsOf(await context({ ICE_SERVERS: JSON.stringify(legacy) }))).body).toMatchObject({ username: null, iceServers: legacy });
  });

  test("signed-in only, and rate-limited per user", async () => {
    const ctx = await context(TURN_ENV);
    expect((await ctx.request("/api/account/turn-credentials")).status).toBe(401);
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    const statuses: number[] = [];
    for (let i = 0; i < TURN_CREDENTIALS_RATE.burst + 1; i++) statuses.push((await ctx.request("/api/account/turn-credentials", { headers })).status);
    expect(statuses).toEqual([...Array(TURN_CREDENTIALS_RATE.burst).fill(200), 429]);
    const limited = await ctx.request("/api/account/turn-credentials", { headers });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // Another user has their own bucket.
    expect((await credentialsOf(ctx)).status).toBe(200);
  });
});

describe.skipIf(!haveCoturn)("against coturn as compose.yml runs it", () => {
  let coturn: Coturn;
  let work: string;
  const clients: StunClient[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "hearth-voice-turn-"));
    coturn = await startCoturn(SECRET, work);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await coturn?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** A fresh UDP socket per allocation (one 5-tuple each). */
  async function allocate(username: string, credential: string): Promise<number> {
    const client = await StunClient.open(coturn.port, coturn.output);
    clients.push(client);
    return client.allocate(username, credential);
  }

  test("a credential Hearth mints allocates a relay", async () => {
    const { body } = await credentialsOf(await context(TURN_ENV));
    expect(await allocate(body.username, body.credential)).toBe(0);
  });

  test("an expired credential is refused (TTL 60 s, minted by a clock 61 s behind)", async () => {
    const behind = await context({ ...TURN_ENV, TURN_CREDENTIAL_TTL_SECS: "60" }, () => Date.now() - 61_000);
    const { body } = await credentialsOf(behind);
    expect(body.ttl).toBe(60);
    expect(await allocate(body.username, body.credential)).toBe(401);
    // The same minting with the clock right works: it is the expiry that is refused.
    const inTime = await credentialsOf(await context({ ...TURN_ENV, TURN_CREDENTIAL_TTL_SECS: "60" }));
    expect(await allocate(inTime.body.username, inTime.body.credential)).toBe(0);
  });

  test("forged credentials are refused: another secret, a stretched expiry, another user's name", async () => {
    const { body } = await credentialsOf(await context(TURN_ENV));
    const [expiry, userId] = (body.username as string).split(":") as [string, string];
    const otherSecret = createHmac("sha1", randomBytes(32).toString("hex")).update(body.username).digest("base64");
    expect(await allocate(body.username, otherSecret)).toBe(401);
    expect(await allocate(`${Number(expiry) + 86_400}:${userId}`, body.credential)).toBe(401);
    expect(await allocate(`${expiry}:${crypto.randomUUID()}`, body.credential)).toBe(401);
    expect(await allocate(body.username, body.credential)).toBe(0); // the genuine one still works
  });
});
