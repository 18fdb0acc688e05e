/**
 * Issue 15 acceptance: an announcement reaches every connected socket exactly once across two
 * instances (two apps, one database, the real Redis at REDIS_URL), and a dismissal persists
 * across devices (two sessions of one user, one socket on each instance). Each run uses its own
 * Redis channel, as test/ws/scale-out.test.ts does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp, type App, type AppDeps } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { RedisFanout } from "../../src/ws/fanout-redis.ts";
import { Hub } from "../../src/ws/hub.ts";
import { INSTANCE_TOPIC } from "../../src/ws/topics.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { cookieSignIn, createUser, signIn } from "../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../helpers/ws.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/ws/announcements-instances.test.ts: skipped: REDIS_URL is not set (two-instance delivery needs a real Redis)");

const RUN = `test:${process.pid}:${Date.now().toString(36)}:ann`;
const CHANNEL = `hearth:fanout:${RUN}`;

describe.skipIf(!REDIS_URL)("announcements across two instances through Redis", () => {
  let a: TestContext;
  let bApp: App;
  let bHub: Hub;
  let urlA: string;
  let urlB: string;
  let httpB: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    a = await createTestContext({ hub: { fanout: new RedisFanout(REDIS_URL!, "instance-a", silentLogger, CHANNEL) } });
    urlA = (await listen(a)).ws;
    bHub = new Hub({ log: silentLogger, version: a.config.version, fanout: new RedisFanout(REDIS_URL!, "instance-b", silentLogger, CHANNEL) });
    await bHub.start();
    const bDeps: AppDeps = { ...a.deps, hub: bHub, events: bHub };
    bApp = createApp(bDeps);
    bApp.listen({ hostname: "127.0.0.1", port: 0 });
    urlB = `ws://127.0.0.1:${bApp.server!.port}/ws`;
    httpB = `http://127.0.0.1:${bApp.server!.port}`;
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await bHub.stop();
    bApp.stop(true);
    await a.close();
  });

  const connectTo = async (url: string, token: string) => {
    const socket = await connectWithToken(url, token);
    sockets.push(socket);
    return socket;
  };

  test("published through instance A's API: every socket on A and on B gets one announcement:changed, then the sentinel", async () => {
    const admin = await createUser(a, { isAdmin: true, adminPowers: ["server_settings"] });
    const adminApi = await signIn(a, admin);
    const connected: TestSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const user = await createUser(a);
      connected.push(await connectTo(urlA, (await signIn(a, user)).accessToken));
      connected.push(await connectTo(urlB, (await signIn(a, user)).accessToken));
    }
    connected.push(await connectTo(urlB, adminApi.accessToken));
    const res = await a.request("/api/admin/announcements", { method: "POST", headers: adminApi.headers, body: JSON.stringify({ body: "Upgrade at **22:00 UTC**" }) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    // A sentinel published on B after the announcement: on one Redis channel, in order.
    bHub.publish(INSTANCE_TOPIC, { type: "test:sentinel" });
    for (const socket of connected) {
      const frames = [];
      for (;;) {
        const frame = await socket.nextFrame();
        if (frame.type === "test:sentinel") break;
        frames.push(frame);
      }
      expect(frames.filter((f) => f.type.startsWith("announcement:"))).toEqual([{ type: "announcement:changed", id }]);
    }
    // And the same through B's own API (expire): once everywhere again.
    const expired = await fetch(`${httpB}/api/admin/announcements/${id}/expire`, { method: "POST", headers: adminApi.headers });
    expect(expired.status).toBe(200);
    a.hub.publish(INSTANCE_TOPIC, { type: "test:sentinel" });
    for (const socket of connected) {
      const frames = [];
      for (;;) {
        const frame = await socket.nextFrame();
        if (frame.type === "test:sentinel") break;
        frames.push(frame);
      }
      expect(frames.filter((f) => f.type.startsWith("announcement:"))).toEqual([{ type: "announcement:changed", id }]);
    }
  });

  test("dismissed on one device (instance A): the other device's socket on B hears it once, and B's pages no longer show it", async () => {
    const admin = await createUser(a, { isAdmin: true, adminPowers: ["server_settings"] });
    const adminApi = await signIn(a, admin);
    const created = await a.request("/api/admin/announcements", { method: "POST", headers: adminApi.headers, body: JSON.stringify({ body: "Dismiss me on one device" }) });
    const { id } = (await created.json()) as { id: string };
    const erin = await createUser(a);
    const laptop = await cookieSignIn(a, erin);
    const phone = await cookieSignIn(a, erin);
    const phoneSocket = await connectTo(urlB, phone.accessToken);
    const laptopSocket = await connectTo(urlA, laptop.accessToken);
    const pageOnB = async () => (await fetch(`${httpB}/settings/account`, { headers: phone.headers })).text();
    expect(await pageOnB()).toContain("Dismiss me on one device");
    const dismissed = await a.request(`/announcements/${id}/dismiss`, { method: "POST", headers: { ...laptop.headers, "hx-request": "true" } });
    expect(dismissed.status).toBe(200);
    a.hub.publish(INSTANCE_TOPIC, { type: "test:sentinel" });
    for (const socket of [phoneSocket, laptopSocket]) {
      const frames = [];
      for (;;) {
        const frame = await socket.nextFrame();
        if (frame.type === "test:sentinel") break;
        frames.push(frame);
      }
      expect(frames.filter((f) => f.type === "announcement:dismissed")).toEqual([{ type: "announcement:dismissed", id }]);
    }
    expect(await pageOnB()).not.toContain("Dismiss me on one device");
    await fetch(`${httpB}/api/admin/announcements/${id}/expire`, { method: "POST", headers: adminApi.headers });
  });
});
