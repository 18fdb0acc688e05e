/**
 * Two hub instances (two apps on two ports, one shared database, the real Redis at REDIS_URL):
 * events, socket closes and unsubscribes cross instances exactly once, and HTTP rate-limit
 * buckets are shared. Each run uses its own Redis channel and key prefix, so parallel runs and
 * other files never see each other's traffic.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createApp, type App, type AppDeps } from "../../src/app.ts";
import { authKernelOf, revokeSession } from "../../src/features/auth/index.ts";
import { runInTransaction } from "../../src/db/tx.ts";
import { RedisRateLimitStore } from "../../src/http/rate-limit-redis.ts";
import { silentLogger } from "../../src/log.ts";
import { CLOSE } from "../../src/shared/protocol.ts";
import { RedisFanout } from "../../src/ws/fanout-redis.ts";
import { Hub } from "../../src/ws/hub.ts";
import { channelTopic, userTopic } from "../../src/ws/topics.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../helpers/ws.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/ws/scale-out.test.ts: skipped: REDIS_URL is not set (two-instance fan-out and shared rate limits need a real Redis)");

const RUN = `test:${process.pid}:${Date.now().toString(36)}`;
const CHANNEL = `hearth:fanout:${RUN}`;

describe.skipIf(!REDIS_URL)("two instances through Redis", () => {
  let a: TestContext;
  let bApp: App;
  let bHub: Hub;
  let urlA: string;
  let urlB: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    a = await createTestContext({ hub: { fanout: new RedisFanout(REDIS_URL!, "instance-a", silentLogger, CHANNEL) } });
    urlA = (await listen(a)).ws;
    // Instance B: same database and secrets (as two processes of one deployment), its own hub.
    bHub = new Hub({ log: silentLogger, version: a.config.version, fanout: new RedisFanout(REDIS_URL!, "instance-b", silentLogger, CHANNEL) });
    await bHub.start();
    const bDeps: AppDeps = { ...a.deps, hub: bHub, events: bHub };
    bApp = createApp(bDeps);
    bApp.listen({ hostname: "127.0.0.1", port: 0 });
    urlB = `ws://127.0.0.1:${bApp.server!.port}/ws`;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await bHub.stop();
    bApp.stop(true);
    await a.close();
  });

  async function connectTo(url: string, accessToken: string): Promise<TestSocket> {
    const socket = await connectWithToken(url, accessToken);
    sockets.push(socket);
    return socket;
  }

  test("an event published on A reaches the user's sockets on A and on B exactly once", async () => {
    const user = await createUser(a);
    const { accessToken } = await signIn(a, user);
    const onA = await connectTo(urlA, accessToken);
    const onB = await connectTo(urlB, accessToken);
    a.hub.publish(userTopic(user.id), { type: "test:cross", n: 1 });
    a.hub.publish(userTopic(user.id), { type: "test:cross", n: 2 });
    a.hub.publish(userTopic(user.id), { type: "test:sentinel" });
    for (const socket of [onA, onB]) {
      expect(await socket.nextFrame()).toEqual({ type: "test:cross", n: 1 });
      expect(await socket.nextFrame()).toEqual({ type: "test:cross", n: 2 });
      expect(await socket.nextFrame()).toEqual({ type: "test:sentinel" });
    }
    // Published on B this time; a sentinel from B follows it on the same Redis connection.
    bHub.publish(userTopic(user.id), { type: "test:from_b" });
    bHub.publish(userTopic(user.id), { type: "test:sentinel" });
    for (const socket of [onA, onB]) {
      expect(await socket.nextFrame()).toEqual({ type: "test:from_b" });
      expect(await socket.nextFrame()).toEqual({ type: "test:sentinel" });
    }
  });

  test("another user on B receives nothing", async () => {
    const alice = await createUser(a);
    const bob = await createUser(a);
    const aliceOnB = await connectTo(urlB, (await signIn(a, alice)).accessToken);
    const bobOnB = await connectTo(urlB, (await signIn(a, bob)).accessToken);
    a.hub.publish(userTopic(alice.id), { type: "test:for_alice" });
    a.hub.publish(userTopic(bob.id), { type: "test:sentinel" });
    expect(await aliceOnB.nextFrame()).toEqual({ type: "test:for_alice" });
    expect(await bobOnB.nextFrame()).toEqual({ type: "test:sentinel" });
  });

  test("a session revoked through A closes its socket on B, and nothing is delivered after", async () => {
    const user = await createUser(a);
    const revoked = await signIn(a, user);
    const kept = await signIn(a, user);
    const revokedOnB = await connectTo(urlB, revoked.accessToken);
    const keptOnB = await connectTo(urlB, kept.accessToken);
    await runInTransaction({ db: a.database.db, events: a.hub }, (tx, outbox) => revokeSession(tx, authKernelOf(a.deps), outbox, user.id, revoked.sessionId, "user_revoked"));
    a.hub.publish(userTopic(user.id), { type: "test:after" });
    expect(await keptOnB.nextFrame()).toEqual({ type: "test:after" });
    expect((await revokedOnB.closed).code).toBe(CLOSE.SESSION_ENDED);
    expect(revokedOnB.received.map((f) => f.type)).toEqual(["hello", "error"]);
  });

  test("a kick on A unsubscribes the user's socket on B", async () => {
    const user = await createUser(a);
    const channel = channelTopic(crypto.randomUUID());
    const onB = await connectTo(urlB, (await signIn(a, user)).accessToken);
    a.hub.subscribeUser(user.id, [channel]);
    a.hub.publish(channel, { type: "test:in_channel", n: 1 });
    expect(await onB.nextFrame()).toEqual({ type: "test:in_channel", n: 1 });
    a.hub.unsubscribeUser(user.id, [channel]);
    a.hub.publish(channel, { type: "test:in_channel", n: 2 });
    a.hub.publish(userTopic(user.id), { type: "test:sentinel" });
    expect(await onB.nextFrame()).toEqual({ type: "test:sentinel" });
  });

  test("a recheck requested on A re-asks the permission model for the user's sockets on B", async () => {
    const user = await createUser(a);
    const channel = channelTopic(crypto.randomUUID()); // no such channel: the model says no
    const onB = await connectTo(urlB, (await signIn(a, user)).accessToken);
    a.hub.subscribeUser(user.id, [channel]);
    a.hub.publish(channel, { type: "test:in_channel", n: 1 });
    expect(await onB.nextFrame()).toEqual({ type: "test:in_channel", n: 1 });
    void a.hub.recheckUser(user.id);
    // B re-asks, unsubscribes and tells the socket why.
    expect(await onB.nextFrame()).toEqual({ type: "subscription:revoked", reason: "ACCESS_CHANGED", channelIds: [channel.slice("channel:".length)] });
    a.hub.publish(channel, { type: "test:in_channel", n: 2 });
    a.hub.publish(userTopic(user.id), { type: "test:sentinel" });
    expect(await onB.nextFrame()).toEqual({ type: "test:sentinel" });
  });

  test("recheckTopics and dropTopics requested on A reach the followers on B", async () => {
    const user = await createUser(a);
    const [gone, deleted] = [crypto.randomUUID(), crypto.randomUUID()]; // no such channels: the model says no
    const onB = await connectTo(urlB, (await signIn(a, user)).accessToken);
    a.hub.subscribeUser(user.id, [channelTopic(gone), channelTopic(deleted)]);
    a.hub.publish(userTopic(user.id), { type: "test:joined" });
    expect(await onB.nextFrame()).toEqual({ type: "test:joined" });
    await a.hub.recheckTopics([channelTopic(gone)]);
    expect(await onB.nextFrame()).toEqual({ type: "subscription:revoked", reason: "ACCESS_CHANGED", channelIds: [gone] });
    a.hub.dropTopics([channelTopic(deleted)]);
    expect(await onB.nextFrame()).toEqual({ type: "subscription:revoked", reason: "CHANNEL_DELETED", channelIds: [deleted] });
    a.hub.publish(channelTopic(gone), { type: "test:in_channel" });
    a.hub.publish(channelTopic(deleted), { type: "test:in_channel" });
    a.hub.publish(userTopic(user.id), { type: "test:sentinel" });
    expect(await onB.nextFrame()).toEqual({ type: "test:sentinel" });
  });

  test("the Redis rate-limit store shares one bucket between instances", async () => {
    const prefix = `hearth:rl:${RUN}:`;
    const clientA = new RedisClient(REDIS_URL!);
    const clientB = new RedisClient(REDIS_URL!);
    const storeA = new RedisRateLimitStore(clientA, silentLogger, prefix);
    const storeB = new RedisRateLimitStore(clientB, silentLogger, prefix);
    try {
      const limit = { ratePerSec: 1, burst: 3 };
      const now = Date.now();
      expect(await storeA.take("general:203.0.113.9", limit, now)).toEqual({ allowed: true });
      expect(await storeB.take("general:203.0.113.9", limit, now)).toEqual({ allowed: true });
      expect(await storeA.take("general:203.0.113.9", limit, now)).toEqual({ allowed: true });
      expect(await storeB.take("general:203.0.113.9", limit, now)).toEqual({ allowed: false, retryAfterSecs: 1 });
      expect(await storeA.take("general:203.0.113.9", limit, now)).toMatchObject({ allowed: false });
      // Another client is unaffected; one second later one token is back (on either instance).
      expect(await storeB.take("general:203.0.113.10", limit, now)).toEqual({ allowed: true });
      expect(await storeB.take("general:203.0.113.9", limit, now + 1000)).toEqual({ allowed: true });
      expect(await storeA.take("general:203.0.113.9", limit, now + 1000)).toMatchObject({ allowed: false });
      // Keys expire once the bucket would be full again.
      const ttl = (await clientA.send("PTTL", [`${prefix}general:203.0.113.9`])) as number;
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(4_000);
    } finally {
      await clientA.send("DEL", [`${prefix}general:203.0.113.9`, `${prefix}general:203.0.113.10`]);
      storeA.close();
      storeB.close();
    }
  });

  test("HTTP requests through both apps draw from the shared bucket", async () => {
    const prefix = `hearth:rl:${RUN}:http:`;
    const limits = { general: { ratePerSec: 0.001, burst: 4 }, auth: { ratePerSec: 0.001, burst: 4 } };
    const stores = [new RedisRateLimitStore(new RedisClient(REDIS_URL!), silentLogger, prefix), new RedisRateLimitStore(new RedisClient(REDIS_URL!), silentLogger, prefix)];
    const apps = stores.map((rateLimitStore) => createApp({ ...a.deps, rateLimits: limits, rateLimitStore }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await apps[i % 2]!.handle(new Request("http://localhost/health"))).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    } finally {
      // In-process requests have no peer address: the bucket is "unknown". Long TTL here (slow refill), so delete it.
      const cleanup = new RedisClient(REDIS_URL!);
      await cleanup.send("DEL", [`${prefix}general:unknown`, `${prefix}auth:unknown`]);
      cleanup.close();
      for (const s of stores) s.close();
    }
  });
});
