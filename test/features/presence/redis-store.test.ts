/**
 * The Redis presence store: counts add up across instances, the heartbeat keeps a live
 * instance's sockets counted past the TTL, and a crashed instance's sockets expire.
 * Needs REDIS_URL (skipped with a reason otherwise).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { RedisPresenceStore, type RedisPresenceStoreOptions } from "../../../src/features/presence/store.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/features/presence/redis-store.test.ts: skipped: needs REDIS_URL");

describe.skipIf(!REDIS_URL)("RedisPresenceStore", () => {
  const stores: RedisPresenceStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => {});
  });
  const make = (options: RedisPresenceStoreOptions) => {
    const s = new RedisPresenceStore(REDIS_URL!, options);
    stores.push(s);
    return s;
  };

  test("counts across instances; heartbeat keeps the live one; a crashed one expires", async () => {
    const user = crypto.randomUUID();
    // The fields' expiry runs on this clock; the test runs the heartbeat (refresh) itself.
    let now = Date.now();
    const options = { ttlMs: 60_000, now: () => now, heartbeat: false };
    const live = make(options);
    const crashed = make(options);
    await live.setLocalCount(user, 1);
    await crashed.setLocalCount(user, 2);
    expect((await live.counts([user])).get(user)).toBe(3);
    // A third of the TTL later the live instance's heartbeat runs; the "crashed" one's never
    // does (it stopped without removing its field).
    now += 20_000;
    await live.refresh();
    expect((await live.counts([user])).get(user)).toBe(3);
    // Past the crashed field's expiry, within the refreshed one's.
    now += 45_000;
    expect((await live.counts([user])).get(user)).toBe(1);
    await live.setLocalCount(user, 0);
    expect((await live.counts([user])).get(user)).toBe(0);
  });

  test("status defaults to online; published status swaps", async () => {
    const user = crypto.randomUUID();
    const s = make({ ttlMs: 1_000 });
    expect((await s.statuses([user])).get(user)).toBe("online");
    await s.setStatus(user, "dnd");
    expect((await s.statuses([user])).get(user)).toBe("dnd");
    expect(await s.swapPublished(user, "online")).toBeNull();
    expect(await s.swapPublished(user, "offline")).toBe("online");
  });
});
