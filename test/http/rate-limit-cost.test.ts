/**
 * A take may cost several tokens (the to-device queue counts messages, not calls): the memory
 * store and the Redis store (shared by instances) agree, and a cost above what is left is
 * refused with the time until that many tokens are back.
 */
import { describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { MemoryRateLimitStore, type RateLimitStore } from "../../src/http/rate-limit.ts";
import { RedisRateLimitStore } from "../../src/http/rate-limit-redis.ts";
import { silentLogger } from "../../src/log.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/http/rate-limit-cost.test.ts: the Redis store's half is skipped: REDIS_URL is not set");

async function checkCosts(store: RateLimitStore, key: string): Promise<void> {
  const limit = { ratePerSec: 50, burst: 5_000 };
  const now = 1_000_000;
  expect(await store.take(key, limit, now, 4_800)).toEqual({ allowed: true });
  expect(await store.take(key, limit, now, 200)).toEqual({ allowed: true });
  // Empty: 200 more are back after 4 s.
  expect(await store.take(key, limit, now, 200)).toEqual({ allowed: false, retryAfterSecs: 4 });
  expect(await store.take(key, limit, now + 1_000, 50)).toEqual({ allowed: true });
  // Without a cost, one token (the HTTP limits).
  expect(await store.take(key, limit, now + 1_000)).toMatchObject({ allowed: false });
  expect(await store.take(key, limit, now + 1_020)).toEqual({ allowed: true });
}

describe("token cost", () => {
  test("memory store", () => checkCosts(new MemoryRateLimitStore(), "cost"));

  test.skipIf(!REDIS_URL)("Redis store", async () => {
    const prefix = `test:rl-cost:${process.pid}:${Date.now().toString(36)}:`;
    const client = new RedisClient(REDIS_URL!);
    const store = new RedisRateLimitStore(client, silentLogger, prefix);
    try {
      await checkCosts(store, "cost");
    } finally {
      await client.send("DEL", [`${prefix}cost`]);
      store.close();
    }
  });
});
