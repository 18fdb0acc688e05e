/**
 * Presence shared through Redis by two in-process apps on one database: a user connected to A is
 * online as seen from B, stays online while any instance holds a socket, and goes offline (after
 * the grace) when the last one closes. Needs REDIS_URL (skipped with a reason otherwise).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.ts";
import { connectWithToken, listen, type TestSocket } from "../../helpers/ws.ts";
import { signIn } from "../../helpers/users.ts";
import { silentLogger } from "../../../src/log.ts";
import { RedisFanout } from "../../../src/ws/fanout-redis.ts";
import { populatedCommunity, type Client, type Populated } from "../messages/helpers.ts";
import { BATCH_MS, expectStatusAfterBatch, GRACE_MS, joinCommunity, PresenceClock, settledEvents, waitForSelfEcho, waitForSockets } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/features/presence/redis.test.ts: skipped: needs REDIS_URL (two in-process apps share presence through Redis)");

describe.skipIf(!REDIS_URL)("presence across two instances through Redis", () => {
  let database: TestDatabase;
  const apps: TestContext[] = [];
  const urls: string[] = [];
  const sockets: TestSocket[] = [];
  let p: Populated;
  // One clock for both instances: the grace on A and the batches on both end when the test says.
  const clock = new PresenceClock();

  beforeAll(async () => {
    database = await createTestDatabase();
    const channel = `hearth:fanout:test:${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const ctx = await createTestContext({
        database: { ...database, close: async () => {} },
        env: { COMMUNITY_CREATION_MODE: "anyone", REDIS_URL: REDIS_URL! },
        hub: { fanout: new RedisFanout(REDIS_URL!, `test-${i}-${crypto.randomUUID()}`, silentLogger, channel) },
        timers: clock.timers,
      });
      clock.attach(ctx);
      apps.push(ctx);
      urls.push((await listen(ctx)).ws);
    }
    p = await populatedCommunity(apps[0]!);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const ctx of apps) await ctx.close().catch(() => {});
    await database?.close();
  });

  async function open(i: number, c: Client): Promise<TestSocket> {
    const session = await signIn(apps[i]!, c.user);
    const s = await connectWithToken(urls[i]!, session.accessToken);
    sockets.push(s);
    return s;
  }
  async function presenceOnB(viewer: Client, id: string): Promise<string | undefined> {
    const session = await signIn(apps[1]!, viewer.user);
    const res = await apps[1]!.request(`/api/presence?user_ids=${id}`, { headers: session.headers });
    return ((await res.json()) as { presence: Record<string, string> }).presence[id];
  }

  test("online on A is seen from B; closing on A with a socket on B stays online; last close goes offline", async () => {
    const target = await joinCommunity(apps[0]!, p);
    const watcherOnB = await open(1, p.member);
    const onA = await open(0, target);
    await expectStatusAfterBatch(clock, watcherOnB, target.user.id, "online");
    expect(await presenceOnB(p.member, target.user.id)).toBe("online");

    const onB = await open(1, target);
    onA.close();
    await waitForSockets(apps[0]!, target.user.id, 0);
    await clock.advance(GRACE_MS + BATCH_MS * 4);
    expect(await presenceOnB(p.member, target.user.id)).toBe("online");
    expect(await settledEvents(clock, watcherOnB, target.user.id)).toEqual(["online"]);

    // A status set on B is seen by a watcher on A.
    const watcherOnA = await open(0, p.admin);
    onB.send({ type: "presence:set", status: "dnd" });
    await waitForSelfEcho(onB, "dnd");
    await expectStatusAfterBatch(clock, watcherOnA, target.user.id, "dnd");

    onB.close();
    await waitForSockets(apps[1]!, target.user.id, 0);
    await clock.advance(GRACE_MS);
    await expectStatusAfterBatch(clock, watcherOnB, target.user.id, "offline");
    expect(await presenceOnB(p.member, target.user.id)).toBe("offline");
  });
});
