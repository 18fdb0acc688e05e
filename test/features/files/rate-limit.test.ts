/**
 * Uploads are rate-limited per user (docs/files.md "Uploading"): session starts and parts take
 * tokens from one bucket per user; with REDIS_URL the bucket is shared by every instance, so a
 * user cannot multiply it by spreading requests over instances.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createTestContext, UNLIMITED, type TestContext } from "../../helpers/app.ts";
import { signIn } from "../../helpers/users.ts";
import { silentLogger } from "../../../src/log.ts";
import { RedisRateLimitStore } from "../../../src/http/rate-limit-redis.ts";
import { populatedCommunity, type Populated } from "../messages/helpers.ts";
import { SEALED } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/features/files/rate-limit.test.ts: the shared (Redis) half is skipped: REDIS_URL is not set");

const rateLimits = { ...UNLIMITED, uploads: { ratePerSec: 0.001, burst: 4 } };
let a: TestContext;
let b: TestContext;
let p: Populated;

beforeAll(async () => {
  a = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" }, rateLimits });
  // A second instance on the same database (its own process-local state, its own app).
  b = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" }, rateLimits, database: { ...a.database, close: async () => {} } });
  p = await populatedCommunity(a);
}, 60_000);
afterAll(async () => {
  await b.close();
  await a.close();
});

async function start(ctx: TestContext, headers: Record<string, string>): Promise<{ status: number; code?: string }> {
  const res = await ctx.request("/api/files/uploads", { method: "POST", headers, body: JSON.stringify({ channel_id: p.generalChannelId, size: 100, part_size: SEALED, chunk_size: 4096 }) });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

describe("upload rate limit", () => {
  test("per user, per instance without Redis: the fifth start is 429 UPLOAD_RATE_LIMITED; another user is not affected", async () => {
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await start(a, p.member.headers));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 429]);
    expect(results[4]!.code).toBe("UPLOAD_RATE_LIMITED");
    expect((await start(a, p.admin.headers)).status).toBe(201);
  });

  test.skipIf(!REDIS_URL)("shared through Redis: four starts spread over two instances empty one bucket", async () => {
    const prefix = `test:files-rl:${process.pid}:${Date.now().toString(36)}:`;
    const client = new RedisClient(REDIS_URL!);
    const store = new RedisRateLimitStore(client, silentLogger, prefix);
    a.deps.rateLimitStore = store;
    b.deps.rateLimitStore = store;
    try {
      const onB = (await signIn(b, p.moderator.user)).headers;
      const results = [await start(a, p.moderator.headers), await start(b, onB), await start(a, p.moderator.headers), await start(b, onB), await start(b, onB), await start(a, p.moderator.headers)];
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 429, 429]);
    } finally {
      a.deps.rateLimitStore = undefined;
      b.deps.rateLimitStore = undefined;
      await client.send("DEL", [`${prefix}uploads:${p.moderator.user.id}`]);
      store.close();
    }
  });
});
