/**
 * Web push with two instances on one database and one Redis (issue 13 §6): a message is pushed
 * once, by the instance that handled the send, not once per instance; a socket Bob holds on the
 * other instance counts as an open tab (presence through Redis), so no push. Needs REDIS_URL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.ts";
import { startPushService, type TestPushService } from "../../helpers/push-service.ts";
import { connectWithToken, listen } from "../../helpers/ws.ts";
import { signIn } from "../../helpers/users.ts";
import { silentLogger } from "../../../src/log.ts";
import { RedisFanout } from "../../../src/ws/fanout-redis.ts";
import { pushSettled } from "../../../src/features/notifications/index.ts";
import { expectOk, populatedCommunity, sendBody, type Client, type Populated } from "../messages/helpers.ts";
import { openDm, subscribe, vapidEnv, waitForSockets } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/features/notifications/two-instances.test.ts: skipped: needs REDIS_URL (two in-process apps share presence and fan-out through Redis)");

describe.skipIf(!REDIS_URL)("web push across two instances", () => {
  let database: TestDatabase;
  let service: TestPushService;
  const apps: TestContext[] = [];
  let p: Populated;
  let dmId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startPushService();
    const env = { COMMUNITY_CREATION_MODE: "anyone", REDIS_URL: REDIS_URL!, ...vapidEnv() };
    const channel = `hearth:fanout:test:${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      apps.push(
        await createTestContext({
          database: { ...database, close: async () => {} },
          env,
          hub: { fanout: new RedisFanout(REDIS_URL!, `push-${i}-${crypto.randomUUID()}`, silentLogger, channel) },
        }),
      );
    }
    p = await populatedCommunity(apps[0]!);
    dmId = await openDm(p.moderator, p.member);
    await subscribe(p.member, service);
  }, 120_000);
  afterAll(async () => {
    for (const ctx of apps) await pushSettled(ctx.deps);
    for (const ctx of apps) await ctx.close().catch(() => {});
    await database?.close();
    await service?.stop();
  });

  /** Alice sends the DM through instance i (her own session there). */
  async function sendOn(i: number, from: Client): Promise<void> {
    const session = await signIn(apps[i]!, from.user);
    const res = await apps[i]!.request(`/api/channels/${dmId}/messages`, { method: "POST", headers: session.headers, body: JSON.stringify(sendBody({}, "pw")) });
    expect(res.status).toBe(201);
  }
  async function settled(): Promise<void> {
    for (const ctx of apps) await pushSettled(ctx.deps);
  }

  test("one push per message, whichever instance handled the send", async () => {
    const before = service.received.length;
    await sendOn(0, p.moderator);
    await settled();
    expect(service.received.length - before).toBe(1);
    await sendOn(1, p.moderator);
    await settled();
    expect(service.received.length - before).toBe(2);
    expect(service.received.slice(before).every((push) => push.jwt.valid && JSON.parse(push.text).channel_id === dmId)).toBe(true);
  });

  test("Bob's socket on instance B means no push for a message sent through A", async () => {
    const { ws } = await listen(apps[1]!);
    const session = await signIn(apps[1]!, p.member.user);
    const socket = await connectWithToken(ws, session.accessToken);
    try {
      await waitForSockets(apps[0]!, p.member.user.id, true);
      const before = service.received.length;
      await sendOn(0, p.moderator);
      await settled();
      expect(service.received.length - before).toBe(0);
    } finally {
      socket.close();
    }
    await waitForSockets(apps[0]!, p.member.user.id, false);
    const before = service.received.length;
    await sendOn(0, p.moderator);
    await settled();
    expect(service.received.length - before).toBe(1);
    expect(await expectOk(p.member.call("GET", "/api/push/subscriptions"))).toMatchObject({ enabled: true });
  });
});
