/**
 * Where presence lives: per-user socket counts and chosen statuses. In memory for one instance;
 * with REDIS_URL in Redis, so every instance sees the same answer:
 *
 *   hearth:presence:sockets:<userId>   hash  instanceId -> "<count>:<expiresAtMs>"  (key TTL'd)
 *   hearth:presence:status:<userId>    the chosen status (online|idle|dnd|invisible), 30 days
 *   hearth:presence:published:<userId> the last status published to others (dedupes events)
 *
 * Each instance rewrites its own fields every SOCKET_TTL_MS/3 (its heartbeat); the fields of an
 * instance that died expire, so its users go offline without anyone cleaning up.
 */
import { RedisClient } from "bun";
import type { PresenceStatus } from "../../shared/protocol.ts";

export interface PresenceStore {
  /** Records this instance's socket count for the user. */
  setLocalCount(userId: string, count: number): Promise<void>;
  /** Open sockets per user across all instances. */
  counts(userIds: readonly string[]): Promise<Map<string, number>>;
  setStatus(userId: string, status: PresenceStatus): Promise<void>;
  statuses(userIds: readonly string[]): Promise<Map<string, PresenceStatus>>;
  /** Stores the last published visible status; returns the previous one (null when none). */
  swapPublished(userId: string, visible: string): Promise<string | null>;
  close(): Promise<void>;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly local = new Map<string, number>();
  private readonly status = new Map<string, PresenceStatus>();
  private readonly published = new Map<string, string>();

  async setLocalCount(userId: string, count: number): Promise<void> {
    if (count > 0) this.local.set(userId, count);
    else this.local.delete(userId);
  }
  async counts(userIds: readonly string[]): Promise<Map<string, number>> {
    return new Map(userIds.map((id) => [id, this.local.get(id) ?? 0]));
  }
  async setStatus(userId: string, status: PresenceStatus): Promise<void> {
    this.status.set(userId, status);
  }
  async statuses(userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    return new Map(userIds.map((id) => [id, this.status.get(id) ?? "online"]));
  }
  async swapPublished(userId: string, visible: string): Promise<string | null> {
    const previous = this.published.get(userId) ?? null;
    if (visible === "offline") this.published.delete(userId);
    else this.published.set(userId, visible);
    return previous;
  }
  async close(): Promise<void> {}
}

export const SOCKET_TTL_MS = 60_000;
const STATUS_TTL_SECS = 30 * 24 * 3600;
const PREFIX = "hearth:presence:";

/**
 * Tests: `now` is the clock the fields' expiry is written and read with, and `heartbeat: false`
 * leaves refresh() to the test, so "a crashed instance's sockets expire" is decided by the test
 * moving its clock, not by a timer racing a loaded machine.
 */
export type RedisPresenceStoreOptions = { ttlMs?: number; now?: () => number; heartbeat?: boolean };

export class RedisPresenceStore implements PresenceStore {
  private readonly client: RedisClient;
  private readonly local = new Map<string, number>();
  private readonly heartbeat: Timer | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;
  readonly instanceId = crypto.randomUUID();

  constructor(url: string, options: RedisPresenceStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? SOCKET_TTL_MS;
    this.now = options.now ?? Date.now;
    this.client = new RedisClient(url, { connectionTimeout: 5_000 });
    if (options.heartbeat !== false) {
      this.heartbeat = setInterval(() => void this.refresh().catch(() => {}), Math.max(50, Math.floor(this.ttlMs / 3)));
      this.heartbeat.unref?.();
    }
  }

  private async writeField(userId: string, count: number): Promise<void> {
    const key = `${PREFIX}sockets:${userId}`;
    if (count > 0) {
      await this.client.send("HSET", [key, this.instanceId, `${count}:${this.now() + this.ttlMs}`]);
      await this.client.send("PEXPIRE", [key, String(this.ttlMs)]);
    } else {
      await this.client.send("HDEL", [key, this.instanceId]);
    }
  }

  async setLocalCount(userId: string, count: number): Promise<void> {
    if (count > 0) this.local.set(userId, count);
    else this.local.delete(userId);
    await this.writeField(userId, count);
  }

  /** The heartbeat: keeps this instance's fields (and their keys) alive. */
  async refresh(): Promise<void> {
    for (const [userId, count] of this.local) await this.writeField(userId, count);
  }

  async counts(userIds: readonly string[]): Promise<Map<string, number>> {
    const now = this.now();
    // Issued together: Bun's client pipelines concurrent commands (one round trip for 200 ids).
    const replies = await Promise.all(userIds.map((id) => this.client.send("HGETALL", [`${PREFIX}sockets:${id}`]) as Promise<unknown>));
    const out = new Map<string, number>();
    userIds.forEach((id, i) => {
      const raw = replies[i];
      const values: string[] = Array.isArray(raw) ? (raw as string[]).filter((_, j) => j % 2 === 1) : raw && typeof raw === "object" ? Object.values(raw as Record<string, string>) : [];
      let total = 0;
      for (const value of values) {
        const [count, expires] = String(value).split(":").map(Number);
        if ((expires ?? 0) > now) total += count ?? 0;
      }
      out.set(id, total);
    });
    return out;
  }

  async setStatus(userId: string, status: PresenceStatus): Promise<void> {
    await this.client.send("SET", [`${PREFIX}status:${userId}`, status, "EX", String(STATUS_TTL_SECS)]);
  }

  async statuses(userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    if (userIds.length === 0) return new Map();
    const raw = (await this.client.send("MGET", userIds.map((id) => `${PREFIX}status:${id}`))) as (string | null)[];
    return new Map(userIds.map((id, i) => [id, (raw[i] as PresenceStatus | null) ?? "online"]));
  }

  async swapPublished(userId: string, visible: string): Promise<string | null> {
    const previous = (await this.client.send("SET", [`${PREFIX}published:${userId}`, visible, "GET", "EX", String(STATUS_TTL_SECS)])) as string | null;
    return previous ?? null;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const userId of this.local.keys()) await this.writeField(userId, 0).catch(() => {});
    this.local.clear();
    this.client.close();
  }
}
