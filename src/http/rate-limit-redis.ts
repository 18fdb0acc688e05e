/**
 * Rate-limit buckets shared by every instance (REDIS_URL): the same token bucket as
 * MemoryRateLimitStore, run atomically inside Redis by a small Lua script, so two instances
 * behind one proxy cannot each grant a client the full burst. Keys expire once the bucket
 * would be full again, so idle clients cost nothing.
 *
 * The instance's clock is passed in (instances are NTP-synchronised; the bucket never moves
 * backwards if one is slightly behind). If Redis is unreachable, requests are limited per
 * instance by a local fallback store instead of failing or going unlimited.
 */
import { RedisClient } from "bun";
import type { Logger } from "../log.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore, type TakeResult } from "./rate-limit.ts";

const KEY_PREFIX = "hearth:rl:";

// KEYS[1] bucket; ARGV: rate per second, burst, now (ms), ttl (ms), cost (tokens; 1 when absent).
// Returns {allowed, retryAfterMs}.
export const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then tokens = burst; updated = now end
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) / 1000 * rate)
  updated = now
end
local cost = tonumber(ARGV[5]) or 1
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(updated))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if allowed == 1 then return {1, 0} end
return {0, math.ceil((cost - tokens) / rate * 1000)}
`;

const SCRIPT_SHA = new Bun.CryptoHasher("sha1").update(TOKEN_BUCKET_LUA).digest("hex");

export class RedisRateLimitStore implements RateLimitStore {
  private readonly fallback = new MemoryRateLimitStore();
  private lastWarnMs = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly log: Logger,
    private readonly prefix = KEY_PREFIX,
  ) {}

  static connect(url: string, log: Logger): RedisRateLimitStore {
    return new RedisRateLimitStore(new RedisClient(url, { connectionTimeout: 5_000 }), log);
  }

  async take(key: string, limit: Limit, nowMs: number, cost = 1): Promise<TakeResult> {
    const ttlMs = Math.ceil((limit.burst / limit.ratePerSec) * 1000) + 1_000;
    const args = ["1", this.prefix + key, String(limit.ratePerSec), String(limit.burst), String(Math.floor(nowMs)), String(ttlMs), String(cost)];
    try {
      let reply: [number, number];
      try {
        reply = (await this.client.send("EVALSHA", [SCRIPT_SHA, ...args])) as [number, number];
      } catch (error) {
        if (!String(error instanceof Error ? error.message : error).includes("NOSCRIPT")) throw error;
        reply = (await this.client.send("EVAL", [TOKEN_BUCKET_LUA, ...args])) as [number, number];
      }
      return reply[0] === 1 ? { allowed: true } : { allowed: false, retryAfterSecs: Number(reply[1]) / 1000 };
    } catch (error) {
      if (nowMs - this.lastWarnMs > 60_000) {
        this.lastWarnMs = nowMs;
        this.log.warn("rate_limit.redis_unavailable", { error: error instanceof Error ? error.message : String(error) });
      }
      return this.fallback.take(key, limit, nowMs, cost);
    }
  }

  close(): void {
    this.client.close();
  }
}
