// Issue 14: a call through the TURN relay. coturn runs on loopback with compose.yml's flags
// (use-auth-secret, the realm, the quotas) except the loopback denials — both "public" relay
// addresses are 127.0.0.1 here, listening and relaying on loopback — and Hearth mints the credentials (GET
// /api/account/turn-credentials). Both Chromiums are forced to `iceTransportPolicy: "relay"` by
// the test (an init script; the app has no such switch): the selected candidate pair is a relay
// pair on both sides and inbound audio bytes rise.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, MEDIA_ARGS } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../helpers/chat-e2e.ts";
import type { TestUser } from "../helpers/users.ts";
import { recordRelayOnlyPeerConnections, startLoopbackCoturn } from "../helpers/calls-e2e.ts";
import { haveCoturn } from "../ops/coturn.ts";

setDefaultTimeout(240_000);

if (!haveCoturn) console.log("test/e2e/calls-relay.test.ts: [skip] turnserver/openssl not installed (apt-get install -y coturn)");
const browser: Browser | null = haveCoturn ? await launchBrowser(MEDIA_ARGS) : null;
const WAIT = { timeout: 60_000 };
const SECRET = randomBytes(32).toString("hex");

let ctx: TestContext;
let base = "";
let coturn: { port: number; stop(): Promise<void> } | null = null;
const opened: BrowserContext[] = [];
let alice: TestUser, bob: TestUser;
let communityId = "";
let loungeId = "";

beforeAll(async () => {
  if (!browser) return;
  coturn = await startLoopbackCoturn(SECRET);
  const port = coturn.port;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone", TURN_AUTH_SECRET: SECRET, TURN_URLS: `turn:127.0.0.1:${port}?transport=udp` }, captureLogs: true });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  const call = apiCaller(ctx);
  const crew = await aliceAndBobInCommunity(ctx, call, "Relay crew");
  ({ alice, bob, communityId } = crew);
  loungeId = (await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name: "Lounge", kind: "voice" })).id;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
  await coturn?.stop();
});

async function joinLounge(user: TestUser): Promise<Page> {
  const { page } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport: { width: 1280, height: 800 } });
  await page.addInitScript(recordRelayOnlyPeerConnections);
  await page.goto(`${base}/c/${communityId}/ch/${loungeId}`, { waitUntil: "load" });
  await page.click(`[data-voice-stage="${loungeId}"] [data-voice-action="join"]`, WAIT);
  await page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
  return page;
}

/** The selected pair's candidate types and the inbound audio bytes, per connected peer connection. */
function relayStats(page: Page): Promise<{ local: string; remote: string; bytes: number }[]> {
  return page.evaluate(async () => {
    const out: { local: string; remote: string; bytes: number }[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== "connected") continue;
      const stats = await pc.getStats();
      const byId = new Map<string, any>();
      stats.forEach((s) => byId.set(s.id, s));
      let pair: any;
      let bytes = 0;
      stats.forEach((s) => {
        if (s.type === "transport" && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
        if (s.type === "inbound-rtp" && s.kind === "audio") bytes += s.bytesReceived ?? 0;
      });
      out.push({ local: byId.get(pair?.localCandidateId)?.candidateType ?? "?", remote: byId.get(pair?.remoteCandidateId)?.candidateType ?? "?", bytes });
    }
    return out;
  });
}

describe.skipIf(!browser)("a call through coturn with Hearth's minted credentials", () => {
  test("relay-only: both sides connect over a relay pair and audio bytes rise", async () => {
    const a = await joinLounge(alice);
    const clicked = Date.now();
    const b = await joinLounge(bob);
    for (const page of [a, b]) await page.waitForFunction(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.some((pc) => pc.connectionState === "connected"), null, WAIT);
    console.log(`relayed: Bob's join → 'connected' on both sides ${Date.now() - clicked} ms (includes opening Bob's page)`);
    for (const page of [a, b]) {
      const first = await relayStats(page);
      expect(first.map((s) => [s.local, s.remote])).toEqual([["relay", "relay"]]);
      await Bun.sleep(1_500);
      const later = await relayStats(page);
      expect(later[0]!.bytes).toBeGreaterThan(first[0]!.bytes);
    }
  });
});
