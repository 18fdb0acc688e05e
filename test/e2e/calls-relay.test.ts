// Issue 14: a call through the TURN relay. coturn runs on loopback with compose.yml's flags
// (use-auth-secret, the realm, the quotas) except the loopback denials — both "public" relay
// addresses are 127.0.0.1 here, listening and relaying on loopback — and Hearth mints the credentials (GET
// /api/account/turn-credentials). Both Chromiums are forced to `iceTransportPolicy: "relay"` by
// the test (an init script; the app has no such switch): the selected candidate pair is a relay
// pair on both sides and inbound audio bytes rise.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, MEDIA_ARGS } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../helpers/chat-e2e.ts";
import type { TestUser } from "../helpers/users.ts";
import { coturnArgs, haveCoturn, message, runTurnInit, StunClient } from "../ops/coturn.ts";
import { freePort } from "../ops/helpers.ts";

setDefaultTimeout(240_000);

if (!haveCoturn) console.log("test/e2e/calls-relay.test.ts: [skip] turnserver/openssl not installed (apt-get install -y coturn)");
const browser: Browser | null = haveCoturn ? await launchBrowser(MEDIA_ARGS) : null;
const WAIT = { timeout: 60_000 };
const SECRET = randomBytes(32).toString("hex");

let ctx: TestContext;
let base = "";
let work = "";
let coturn: ReturnType<typeof Bun.spawn> | null = null;
let output = "";
const opened: BrowserContext[] = [];
let alice: TestUser, bob: TestUser;
let communityId = "";
let loungeId = "";

beforeAll(async () => {
  if (!browser) return;
  work = mkdtempSync(join(tmpdir(), "hearth-calls-relay-"));
  const certs = join(work, "certs");
  const init = runTurnInit(certs, { HAS_TURN_AUTH_SECRET: "yes", TURN_EXTERNAL_IP: "127.0.0.1" });
  if (init.code !== 0) throw new Error(`turn-init failed: ${init.out}`);
  const port = freePort();
  const args = coturnArgs(SECRET, certs, port, freePort()).filter((a) => a !== "--denied-peer-ip=127.0.0.1" && a !== "--denied-peer-ip=127.0.0.0-127.255.255.255");
  // Relay sockets on loopback too: with the host's own address as the relay address, a peer's
  // packets (sent to the advertised 127.0.0.1) would never reach the other allocation.
  coturn = Bun.spawn(["turnserver", ...args, "--allow-loopback-peers", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", `--pidfile=${join(work, "turnserver.pid")}`], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  void new Response(coturn.stdout as ReadableStream).text().then((t) => (output += t));
  void new Response(coturn.stderr as ReadableStream).text().then((t) => (output += t));
  const probe = await StunClient.open(port, () => output);
  try {
    expect((await probe.request(message(0x0001, []))).type).toBe(0x0101); // Binding success: up
  } finally {
    probe.close();
  }
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
  if (coturn) {
    coturn.kill("SIGTERM");
    await Promise.race([coturn.exited, Bun.sleep(3000)]);
    if (coturn.exitCode === null) coturn.kill("SIGKILL");
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Forces every peer connection to relay candidates only, and keeps them for getStats. */
function relayOnly(): void {
  const w = window as unknown as { __pcs: RTCPeerConnection[]; RTCPeerConnection: typeof RTCPeerConnection };
  const Original = w.RTCPeerConnection;
  w.__pcs = [];
  w.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super({ ...config, iceTransportPolicy: "relay" });
      w.__pcs.push(this);
    }
    override setConfiguration(config?: RTCConfiguration): void {
      super.setConfiguration({ ...config, iceTransportPolicy: "relay" });
    }
  };
}

async function joinLounge(user: TestUser): Promise<Page> {
  const { page } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport: { width: 1280, height: 800 } });
  await page.addInitScript(relayOnly);
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
