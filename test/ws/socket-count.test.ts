/**
 * The Redis socket counter behind the cross-instance cap, against the real Redis: instances share
 * one count per user, the cap holds under concurrent admissions on two instances, and the counts
 * of an instance that stopped heart-beating (crashed) expire so its sockets stop counting.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { RedisSocketCounter } from "../../src/ws/socket-count.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/ws/socket-count.test.ts: skipped: REDIS_URL is not set (the shared socket count lives in Redis)");

const PREFIX = `test:ws:sockets:${process.pid}:${Date.now().toString(36)}:`;

describe.skipIf(!REDIS_URL)("RedisSocketCounter", () => {
  const counters: RedisSocketCounter[] = [];
  const counter = (id: string, ttlMs = 60_000) => {
    const c = new RedisSocketCounter(REDIS_URL!, id, ttlMs, PREFIX);
    counters.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of counters) await c.close().catch(() => {});
  });

  test("two instances share the cap; a release on one frees a slot for the other", async () => {
    const a = counter("a");
    const b = counter("b");
    const user = crypto.randomUUID();
    for (let n = 1; n <= 5; n++) expect(await a.tryReserve(user, n, 8)).toBe(true);
    for (let n = 1; n <= 3; n++) expect(await b.tryReserve(user, n, 8)).toBe(true);
    expect(await b.tryReserve(user, 4, 8)).toBe(false);
    expect(await a.tryReserve(user, 6, 8)).toBe(false);
    await a.setLocal(user, 4);
    expect(await b.tryReserve(user, 4, 8)).toBe(true);
  });

  test("concurrent admissions on two instances never exceed the cap", async () => {
    const a = counter("a2");
    const b = counter("b2");
    const user = crypto.randomUUID();
    await a.setLocal(user, 4);
    await b.setLocal(user, 3);
    // Both try to add one more at the same moment: only one may be the 8th.
    const [okA, okB] = await Promise.all([a.tryReserve(user, 5, 8), b.tryReserve(user, 4, 8)]);
    expect([okA, okB].filter(Boolean).length).toBe(1);
  });

  test("a crashed instance's counts expire: its sockets stop counting after the TTL", async () => {
    const crashed = counter("crashed", 300);
    const alive = counter("alive", 300);
    const user = crypto.randomUUID();
    expect(await crashed.tryReserve(user, 8, 8)).toBe(true);
    expect(await alive.tryReserve(user, 1, 8)).toBe(false);
    await crashed.close(false); // no clean-up: as if the process died
    let admitted = false;
    for (let i = 0; i < 100 && !admitted; i++) {
      admitted = await alive.tryReserve(user, 1, 8);
      if (!admitted) await Bun.sleep(20);
    }
    expect(admitted).toBe(true);
  });

  test("a clean close removes the instance's counts at once", async () => {
    const leaving = counter("leaving");
    const staying = counter("staying");
    const user = crypto.randomUUID();
    expect(await leaving.tryReserve(user, 8, 8)).toBe(true);
    await leaving.close();
    expect(await staying.tryReserve(user, 1, 8)).toBe(true);
  });
});
