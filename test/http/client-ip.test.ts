import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClientIpResolver, createIpMatcher } from "../../src/http/client-ip.ts";
import { DEFAULT_RATE_LIMITS } from "../../src/http/rate-limit.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";

describe("IP matching", () => {
  const m = createIpMatcher(["127.0.0.0/8", "::1", "10.1.0.0/16", "fd00::/8"]);
  test.each([
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["::ffff:127.0.0.1", true],
    ["::1", true],
    ["10.1.200.3", true],
    ["10.2.0.1", false],
    ["fd12:3456::1", true],
    ["fe80::1", false],
    ["203.0.113.9", false],
    ["not-an-ip", false],
  ])("%s -> %p", (ip, expected) => expect(m(ip as string)).toBe(expected as boolean));
});

describe("client IP resolution", () => {
  const resolve = createClientIpResolver(["127.0.0.0/8", "::1"]);
  const h = (init: Record<string, string>) => new Headers(init);
  test("an untrusted peer is the client, whatever it claims", () => {
    expect(resolve(h({ "x-forwarded-for": "1.2.3.4", "cf-connecting-ip": "5.6.7.8" }), "203.0.113.7")).toBe("203.0.113.7");
  });
  test("a trusted proxy's CF-Connecting-IP is believed", () => {
    expect(resolve(h({ "cf-connecting-ip": "198.51.100.4" }), "127.0.0.1")).toBe("198.51.100.4");
  });
  test("behind a trusted proxy, the right-most untrusted X-Forwarded-For hop is the client", () => {
    // The client prepended a forged entry; the proxy appended the real address.
    expect(resolve(h({ "x-forwarded-for": "9.9.9.9, 198.51.100.4" }), "127.0.0.1")).toBe("198.51.100.4");
    expect(resolve(h({ "x-forwarded-for": "198.51.100.4, 127.0.0.2" }), "::ffff:127.0.0.1")).toBe("198.51.100.4");
  });
  test("garbage in X-Forwarded-For falls back to the peer", () => {
    expect(resolve(h({ "x-forwarded-for": "<script>, nope" }), "127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("forged X-Forwarded-For over a real socket", () => {
  let db: TestDatabase;
  const servers: TestContext[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of servers) await s.app.stop().catch(() => {});
    await db.close();
  });

  async function listen(env: Record<string, string>) {
    const ctx = await createTestContext({ env, rateLimits: DEFAULT_RATE_LIMITS, database: db });
    servers.push(ctx);
    ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
    return `http://127.0.0.1:${ctx.app.server!.port}`;
  }

  test("an untrusted client cannot hop buckets by forging the header", async () => {
    // Loopback is NOT trusted here, so this test client is "a client elsewhere".
    const base = await listen({ TRUSTED_PROXIES: "10.0.0.1" });
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "x-forwarded-for": `203.0.113.${i}`, "cf-connecting-ip": `198.51.100.${i}` } });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).includes(429)).toBe(false);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
  });

  test("behind a trusted proxy, each forwarded client has its own bucket", async () => {
    const base = await listen({ TRUSTED_PROXIES: "127.0.0.0/8,::1" });
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.50" } })).status).not.toBe(429);
    }
    expect((await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.50" } })).status).toBe(429);
    // A different client behind the same proxy is unaffected.
    expect((await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.51" } })).status).not.toBe(429);
  });
});
