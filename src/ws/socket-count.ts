/**
 * The per-user socket cap (MAX_SOCKETS_PER_USER) over every instance. Without Redis the hub's own
 * registry is the count. With REDIS_URL each instance keeps its own count per user in one hash:
 *
 *   hearth:ws:sockets:<userId>   hash  instanceId -> "<count>:<expiresAtMs>"   (key TTL'd)
 *
 * the presence store's pattern: each instance rewrites its fields every ttl/3 (heartbeat), so the
 * fields of a crashed instance expire and its sockets stop counting within `ttlMs`. Admission is one
 * Lua script (atomic in Redis): sum the live fields of other instances, add this instance's count
 * including the newcomer, and record it only if the total stays within the cap. Two instances
 * admitting the user's 8th and 9th socket at the same moment cannot both pass.
 */
import { RedisClient } from "bun";

export interface SocketCounter {
  /**
   * Records `localCount` (this instance's sockets of the user, the newcomer included) if the
   * user's total over all live instances stays within `cap`; false when it would not.
   */
  tryReserve(userId: string, localCount: number, cap: number): Promise<boolean>;
  /** Records this instance's current count (0 removes the field). */
  setLocal(userId: string, localCount: number): Promise<void>;
  close(): Promise<void>;
}

export const SOCKET_COUNT_TTL_MS = 60_000;
const PREFIX = "hearth:ws:sockets:";

// KEYS[1] hash; ARGV: instanceId, nowMs, expiresAtMs, cap, localCount, ttlMs
const RESERVE_SCRIPT = `
local fields = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[2])
local others = 0
for i = 1, #fields, 2 do
  local field, value = fields[i], fields[i + 1]
  local count, expires = string.match(value, '^(%d+):(%d+)$')
  if (tonumber(expires) or 0) <= now then
    redis.call('HDEL', KEYS[1], field)
  elseif field ~= ARGV[1] then
    others = others + (tonumber(count) or 0)
  end
end
local localCount = tonumber(ARGV[5])
if others + localCount > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5] .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`;

export class RedisSocketCounter implements SocketCounter {
  private readonly client: RedisClient;
  private readonly local = new Map<string, number>();
  private readonly heartbeat: Timer;
  private closed = false;

  constructor(
    url: string,
    readonly instanceId: string,
    private readonly ttlMs = SOCKET_COUNT_TTL_MS,
    private readonly prefix = PREFIX,
  ) {
    this.client = new RedisClient(url, { connectionTimeout: 5_000 });
    this.heartbeat = setInterval(() => void this.refresh().catch(() => {}), Math.max(50, Math.floor(ttlMs / 3)));
    this.heartbeat.unref?.();
  }

  async tryReserve(userId: string, localCount: number, cap: number): Promise<boolean> {
    const now = Date.now();
    const reply = await this.client.send("EVAL", [RESERVE_SCRIPT, "1", this.prefix + userId, this.instanceId, String(now), String(now + this.ttlMs), String(cap), String(localCount), String(this.ttlMs)]);
    const ok = Number(reply) === 1;
    if (ok) this.local.set(userId, localCount);
    return ok;
  }

  async setLocal(userId: string, localCount: number): Promise<void> {
    if (localCount > 0) this.local.set(userId, localCount);
    else this.local.delete(userId);
    await this.write(userId, localCount);
  }

  private async write(userId: string, count: number): Promise<void> {
    const key = this.prefix + userId;
    if (count > 0) {
      await this.client.send("HSET", [key, this.instanceId, `${count}:${Date.now() + this.ttlMs}`]);
      await this.client.send("PEXPIRE", [key, String(this.ttlMs)]);
    } else {
      await this.client.send("HDEL", [key, this.instanceId]);
    }
  }

  /** The heartbeat: keeps this instance's fields alive. */
  async refresh(): Promise<void> {
    if (this.closed) return;
    for (const [userId, count] of this.local) await this.write(userId, count);
  }

  /**
   * Stops the heartbeat. `forget` (a clean shutdown) removes this instance's fields first; without
   * it they simply expire, as after a crash.
   */
  async close(forget = true): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (forget) await Promise.all([...this.local.keys()].map((id) => this.client.send("HDEL", [this.prefix + id, this.instanceId]).catch(() => {})));
    this.local.clear();
    this.client.close();
  }
}
