import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClientIpResolver, createIpMatcher, limitSubjectOf } from "../../src/http/client-ip.ts";
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

describe("rate-limit subject", () => {
  test.each([
    ["203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::ffff", "2001:db8:1:2::/64"],
    ["2001:DB8:0:0:1::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["unknown", "unknown"],
  ])("%s counts as %s", (ip, subject) => {
    expect(limitSubjectOf(ip)).toBe(subject);
  });
});

describe("client IP resolution", () => {
  const h = (init: Record<string, string>) => new Headers(init);
  const forged = { "x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8", "cf-connecting-ip": "9.10.11.12" };

  describe("default: X-Forwarded-For, right-most untrusted hop", () => {
    const resolve = createClientIpResolver(["127.0.0.0/8", "::1"]);
    test("an untrusted peer is the client, whatever it claims", () => {
      expect(resolve(h(forged), "203.0.113.7")).toBe("203.0.113.7");
    });
    test("behind a trusted proxy, CF-Connecting-IP and X-Real-IP are ignored (a proxy passes them through from the client)", () => {
      expect(resolve(h({ "cf-connecting-ip": "198.51.100.4" }), "127.0.0.1")).toBe("127.0.0.1");
      expect(resolve(h({ "x-real-ip": "198.51.100.4" }), "127.0.0.1")).toBe("127.0.0.1");
      expect(resolve(h({ ...forged, "x-forwarded-for": "198.51.100.9" }), "127.0.0.1")).toBe("198.51.100.9");
    });
    test("the right-most untrusted hop is the client; entries left of it are the client's and never read", () => {
      // The client prepended a forged entry; the proxy appended the real address.
      expect(resolve(h({ "x-forwarded-for": "9.9.9.9, 198.51.100.4" }), "127.0.0.1")).toBe("198.51.100.4");
      expect(resolve(h({ "x-forwarded-for": "198.51.100.4, 127.0.0.2" }), "::ffff:127.0.0.1")).toBe("198.51.100.4");
      expect(resolve(h({ "x-forwarded-for": "garbage, 198.51.100.4" }), "127.0.0.1")).toBe("198.51.100.4");
    });
    test("several header lines are one chain, read from the end", () => {
      const headers = new Headers();
      headers.append("x-forwarded-for", "9.9.9.9");
      headers.append("x-forwarded-for", "198.51.100.4");
      expect(resolve(headers, "127.0.0.1")).toBe("198.51.100.4");
    });
    test("a hop that is not an address stops the walk at the last trusted hop", () => {
      expect(resolve(h({ "x-forwarded-for": "<script>, nope" }), "127.0.0.1")).toBe("127.0.0.1");
      expect(resolve(h({ "x-forwarded-for": "198.51.100.4, nope, 127.0.0.2" }), "127.0.0.1")).toBe("127.0.0.2");
      expect(resolve(h({ "x-forwarded-for": "" }), "127.0.0.1")).toBe("127.0.0.1");
    });
    test("all hops trusted: the farthest one", () => {
      expect(resolve(h({ "x-forwarded-for": "127.0.0.3, 127.0.0.2" }), "127.0.0.1")).toBe("127.0.0.3");
    });
    test("port and bracket forms some proxies write; IPv6 is lower-cased, v4-mapped unwrapped", () => {
      expect(resolve(h({ "x-forwarded-for": "198.51.100.4:5123" }), "127.0.0.1")).toBe("198.51.100.4");
      expect(resolve(h({ "x-forwarded-for": "[2001:DB8::1]:443" }), "::1")).toBe("2001:db8::1");
      expect(resolve(h({ "x-forwarded-for": "::ffff:198.51.100.4" }), "::1")).toBe("198.51.100.4");
    });
  });

  describe("CLIENT_IP_HEADER=CF-Connecting-IP (Cloudflare only)", () => {
    const resolve = createClientIpResolver(["10.0.0.0/8"], "cf-connecting-ip");
    test("believed from a trusted peer; X-Forwarded-For and X-Real-IP ignored", () => {
      expect(resolve(h({ ...forged, "cf-connecting-ip": "198.51.100.4" }), "10.1.2.3")).toBe("198.51.100.4");
    });
    test("missing, garbage or two values: the peer", () => {
      expect(resolve(h({ "x-forwarded-for": "198.51.100.4" }), "10.1.2.3")).toBe("10.1.2.3");
      expect(resolve(h({ "cf-connecting-ip": "nope" }), "10.1.2.3")).toBe("10.1.2.3");
      expect(resolve(h({ "cf-connecting-ip": "198.51.100.4, 198.51.100.5" }), "10.1.2.3")).toBe("10.1.2.3");
    });
    test("from an untrusted peer: ignored", () => {
      expect(resolve(h({ "cf-connecting-ip": "198.51.100.4" }), "203.0.113.7")).toBe("203.0.113.7");
    });
  });

  describe("CLIENT_IP_HEADER=X-Real-IP and none", () => {
    test("X-Real-IP: only that header", () => {
      const resolve = createClientIpResolver(["127.0.0.1"], "x-real-ip");
      expect(resolve(h({ ...forged, "x-real-ip": "198.51.100.4" }), "127.0.0.1")).toBe("198.51.100.4");
      expect(resolve(h({ "x-forwarded-for": "198.51.100.4", "cf-connecting-ip": "198.51.100.5" }), "127.0.0.1")).toBe("127.0.0.1");
    });
    test("none: always the peer, even a trusted one", () => {
      const resolve = createClientIpResolver(["127.0.0.1"], "none");
      expect(resolve(h(forged), "127.0.0.1")).toBe("127.0.0.1");
    });
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
    // The seeds' auth burst (10) with next to no refill: the counts below cannot drift with the
    // machine's speed (at the seeds' 5/s a slow run refilled a token mid-test).
    const ctx = await createTestContext({ env, rateLimits: { general: DEFAULT_RATE_LIMITS.general, auth: { ratePerSec: 0.001, burst: DEFAULT_RATE_LIMITS.auth.burst } }, database: db });
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

  test("an IPv6 client is counted by its /64: rotating addresses inside it does not reset the bucket", async () => {
    const base = await listen({ TRUSTED_PROXIES: "127.0.0.0/8,::1" });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "x-forwarded-for": `2001:db8:7:9:${(i + 1).toString(16)}::${i + 7}` } });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).includes(429)).toBe(false);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // The neighbouring /64 is somebody else.
    expect((await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "x-forwarded-for": "2001:db8:7:a::1" } })).status).not.toBe(429);
  });
});
