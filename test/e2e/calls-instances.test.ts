// Issue 14 acceptance "Alice on instance A, Bob on instance B (Redis) talk", in Chromium: two app
// instances (each its own hub, HTTP port and Redis fan-out) share one database (PostgreSQL when
// TEST_DATABASE_URL is set) and the real Redis at REDIS_URL. Alice's page and socket are served by
// A, Bob's by B; they join one voice channel, the peer connection connects through signalling
// relayed across the instances, and inbound audio bytes rise on both sides.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { silentLogger } from "../../src/log.ts";
import { RedisFanout } from "../../src/ws/fanout-redis.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, MEDIA_ARGS, type PageProblems } from "../helpers/browser.ts";
import { inboundAudioBytes, recordPeerConnections, waitAudioBytes, waitConnected } from "../helpers/calls-e2e.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../helpers/chat-e2e.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import type { TestUser } from "../helpers/users.ts";

setDefaultTimeout(240_000);

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/e2e/calls-instances.test.ts: skipped: REDIS_URL is not set (two instances need a real Redis)");
const browser: Browser | null = REDIS_URL ? await launchBrowser(MEDIA_ARGS) : null;
const WAIT = { timeout: 60_000 };

let database: TestDatabase | null = null;
const instances: { ctx: TestContext; base: string }[] = [];
const opened: BrowserContext[] = [];
let alice: TestUser, bob: TestUser;
let communityId = "";
let loungeId = "";

beforeAll(async () => {
  if (!browser) return;
  database = await createTestDatabase();
  const channel = `hearth:fanout:calls-e2e:${crypto.randomUUID()}`;
  for (const name of ["a", "b"]) {
    const ctx = await createTestContext({
      database: { ...database, close: async () => {} },
      // ICE_SERVERS=[]: host candidates only (loopback), no public STUN server asked.
      env: { COMMUNITY_CREATION_MODE: "anyone", ICE_SERVERS: "[]", REDIS_URL: REDIS_URL! },
      hub: { fanout: new RedisFanout(REDIS_URL!, `calls-${name}-${crypto.randomUUID()}`, silentLogger, channel) },
    });
    ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
    instances.push({ ctx, base: `http://127.0.0.1:${ctx.app.server!.port}` });
  }
  const call = apiCaller(instances[0]!.ctx);
  const crew = await aliceAndBobInCommunity(instances[0]!.ctx, call, "Two instances");
  ({ alice, bob, communityId } = crew);
  loungeId = (await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name: "Lounge", kind: "voice" })).id;
}, 120_000);

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  for (const { ctx } of instances) await ctx.close().catch(() => {});
  await database?.close();
});

/** `user` opens the voice channel on instance `i` (page and socket served by it) and joins. */
async function joinOn(i: number, user: TestUser): Promise<{ page: Page; problems: PageProblems }> {
  const { ctx, base } = instances[i]!;
  const { page, problems } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport: { width: 1280, height: 800 } });
  await page.addInitScript(recordPeerConnections);
  expect((await page.goto(`${base}/c/${communityId}/ch/${loungeId}`, { waitUntil: "load" }))?.status()).toBe(200);
  await page.click(`[data-voice-stage="${loungeId}"][data-voice-ready] [data-voice-action="join"]`, WAIT);
  await page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
  return { page, problems };
}

describe.skipIf(!browser)("a call across two instances (Redis)", () => {
  test("Alice on instance A and Bob on instance B: they see each other, connect, and audio bytes rise on both sides", async () => {
    const a = await joinOn(0, alice);
    const b = await joinOn(1, bob);
    expect(new URL(a.page.url()).port).not.toBe(new URL(b.page.url()).port);
    for (const p of [a, b]) await waitConnected(p.page, 1, WAIT);
    // Each sees the other in the call (participant events crossed the instances).
    await a.page.waitForFunction(() => [...document.querySelectorAll("#voice-dock .voice-dock__people .voice-person__name")].map((e) => e.textContent).sort().join() === "Alice (you),Bob", null, WAIT);
    await b.page.waitForFunction(() => [...document.querySelectorAll("#voice-dock .voice-dock__people .voice-person__name")].map((e) => e.textContent).sort().join() === "Alice,Bob (you)", null, WAIT);
    for (const p of [a, b]) {
      await waitAudioBytes(p.page, 1, WAIT);
      const first = await inboundAudioBytes(p.page);
      await Bun.sleep(1_500);
      const later = await inboundAudioBytes(p.page);
      expect(first).toHaveLength(1);
      expect(later[0]!).toBeGreaterThan(first[0]!);
    }
    // Bob leaves on B: Alice's page on A hears of it and closes the peer connection.
    await b.page.click("#voice-dock [data-voice-action='leave-dock']");
    await a.page.waitForFunction(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.every((pc) => pc.connectionState === "closed"), null, WAIT);
    await a.page.click("#voice-dock [data-voice-action='leave-dock']");
    for (const p of [a, b]) expect(p.problems.all()).toEqual([]);
  });
});
