/**
 * Calls in Chromium (issue 14 "Measure"; docs/voice.md "Measured"), against an in-process server on
 * loopback (PGlite), with Chromium's fake microphone and camera:
 *
 * 1. Call setup time: Bob's Join click to the first inbound audio bytes on his page (Alice already
 *    in the call), direct (host candidates) and relayed (every peer connection forced to relay
 *    candidates through coturn on loopback, when installed); the baseline is one `fetch` round
 *    trip of the same page to the same server in the same run (`GET /api/health`).
 * 2. CPU of one Chromium (the whole process tree: browser, renderers, GPU, network, audio) over
 *    `--seconds` with 4 pages: idle on the voice channel's page (the baseline), in a 4-way audio
 *    call, and in a 4-way video call (everyone's camera on, at the caps Call.videoCaps sets for 4
 *    people: 640×360, 24 fps, 450 kbit/s per peer). Figures: % of one core, and the ratio to idle.
 * 3. Signalling cost of one join on the wire: `voice:*` / `rtc:*` frames and bytes every page sent
 *    (server in) and received (server out) from the 4th person's click until all 4 receive audio
 *    from everyone, and 1 s after, without the speaking indicator's frames; the ratio is to the
 *    bytes of the joiner's offers' SDP (what must cross anyway).
 *
 *   bun scripts/bench/calls-browser.ts [--runs 3] [--seconds 20]
 */
import { chromium, type Page } from "playwright-core";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createTestContext } from "../../test/helpers/app.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, MEDIA_ARGS } from "../../test/helpers/browser.ts";
import { recordPeerConnections, recordRelayOnlyPeerConnections, startLoopbackCoturn, waitAudioBytes, waitConnected } from "../../test/helpers/calls-e2e.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../../test/helpers/chat-e2e.ts";
import { createUser, signIn } from "../../test/helpers/users.ts";
import { haveCoturn } from "../../test/ops/coturn.ts";
import { ensureClientBuild } from "../build.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 3);
const SECONDS = arg("seconds", 20);
const WAIT = { timeout: 180_000 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Init script: counts the call frames (voice:*, rtc:*) this page's sockets send and receive. */
function countCallFrames(): void {
  const w = window as unknown as { __frames: { out: number; outBytes: number; in: number; inBytes: number; sdpOut: number }; WebSocket: typeof WebSocket };
  w.__frames = { out: 0, outBytes: 0, in: 0, inBytes: 0, sdpOut: 0 };
  const Original = w.WebSocket;
  // The speaking indicator (voice:state {speaking}, voice:speaking) is not part of a join: left out.
  const isCall = (text: string) => /^\{"type":"(voice|rtc):/.test(text) && !/^\{"type":"voice:speaking"/.test(text) && !/^\{"type":"voice:state","channelId":"[^"]*","speaking":(true|false)\}$/.test(text);
  w.WebSocket = class extends Original {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (e) => {
        if (typeof e.data === "string" && isCall(e.data)) (w.__frames.in++, (w.__frames.inBytes += new TextEncoder().encode(e.data).length));
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === "string" && isCall(data)) {
        w.__frames.out++;
        w.__frames.outBytes += new TextEncoder().encode(data).length;
        for (const m of data.matchAll(/"type":"offer","sdp":"((?:[^"\\]|\\.)*)"/g)) w.__frames.sdpOut += m[1]!.length;
      }
      super.send(data);
    }
  };
}

/** CPU clock ticks (utime + stime) of the process tree under `root`. */
function treeTicks(root: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      children.set(Number(f[1]), [...(children.get(Number(f[1])) ?? []), Number(name)]);
      ticks.set(Number(name), Number(f[11]) + Number(f[12]));
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  const visit = (pid: number) => {
    sum += ticks.get(pid) ?? 0;
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return sum;
}

await ensureClientBuild();
const secret = randomBytes(32).toString("hex");
const coturn = haveCoturn ? await startLoopbackCoturn(secret) : null;
if (!coturn) console.log("relayed figures skipped: coturn (turnserver, openssl) is not installed");
const turnEnv: Record<string, string> = coturn ? { TURN_AUTH_SECRET: secret, TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp` } : { ICE_SERVERS: "[]" };
const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone", ...turnEnv } });
ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${ctx.app.server!.port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...MEDIA_ARGS] });
const browserPid = (() => {
  // The browser process is the Chromium child of this process started last.
  const kids = readdirSync("/proc").filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("chrom");
    } catch {
      return false;
    }
  });
  return Math.max(...kids);
})();
const opened: Parameters<typeof openSignedIn>[4]["track"] = [];
const TICK = 100; // USER_HZ

try {
  const call = apiCaller(ctx);
  const crew = await aliceAndBobInCommunity(ctx, call, "Bench calls");
  const people = [crew.alice, crew.bob];
  const invite = await call(crew.aliceHeaders, "POST", `/api/communities/${crew.communityId}/invites`, {});
  for (const name of ["Carol", "Dave"]) {
    const u = await createUser(ctx, { displayName: name });
    await call((await signIn(ctx, u)).headers, "POST", `/api/community-invites/${invite.code}/accept`);
    people.push(u);
  }
  const newChannel = async (name: string) => (await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name, kind: "voice" })).id as string;

  const openStage = async (user: (typeof people)[number], channelId: string, init: () => void): Promise<Page> => {
    const { page } = await openSignedIn(browser, ctx, base, user, { track: opened });
    await page.addInitScript(init);
    await page.addInitScript(countCallFrames);
    await page.goto(`${base}/c/${crew.communityId}/ch/${channelId}`, { waitUntil: "load" });
    await page.waitForSelector(`[data-voice-stage="${channelId}"][data-voice-ready] [data-voice-action="join"]`, WAIT);
    return page;
  };
  const join = async (page: Page, channelId: string) => {
    const clicked = await page.evaluate(() => performance.now());
    await page.click(`[data-voice-stage="${channelId}"] [data-voice-action="join"]`);
    return clicked;
  };
  const leaveAll = async (pages: Page[]) => {
    for (const p of pages) await p.click("#voice-dock [data-voice-action='leave-dock']").catch(() => {});
    for (const c of opened.splice(0)) await c.close().catch(() => {});
  };
  const roundTrip = (page: Page) =>
    page.evaluate(async () => {
      const t = performance.now();
      await fetch("/api/health", { cache: "no-store" });
      return performance.now() - t;
    });

  // 1. Setup time.
  for (const [label, init] of [["direct", recordPeerConnections], ...(coturn ? [["relayed", recordRelayOnlyPeerConnections] as const] : [])] as const) {
    const setups: number[] = [];
    const rtts: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const channelId = await newChannel(`setup-${label}-${run}`);
      const a = await openStage(people[0]!, channelId, init);
      await join(a, channelId);
      await a.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
      const b = await openStage(people[1]!, channelId, init);
      for (let i = 0; i < 5; i++) rtts.push(await roundTrip(b));
      const clicked = await join(b, channelId);
      const firstBytes = await waitAudioBytes(b, 1, WAIT);
      setups.push(firstBytes - clicked);
      await leaveAll([a, b]);
    }
    const s = median(setups);
    const r = median(rtts);
    console.log(`setup ${label}: join click → first inbound audio bytes ${Math.round(s)} ms median of ${RUNS} (${setups.map(Math.round).join(", ")}); baseline fetch round trip ${r.toFixed(1)} ms → ×${Math.round(s / r)}`);
  }

  // 2 and 3. Four pages: idle, audio call, video call.
  const channelId = await newChannel("four");
  const pages: Page[] = [];
  for (const u of people) pages.push(await openStage(u, channelId, recordPeerConnections));
  const cpu = async () => {
    await Bun.sleep(2_000);
    const t0 = treeTicks(browserPid);
    const started = performance.now();
    await Bun.sleep(SECONDS * 1000);
    return (treeTicks(browserPid) - t0) / TICK / ((performance.now() - started) / 1000);
  };
  const idle = await cpu();
  console.log(`CPU, one Chromium with 4 pages on the voice channel, idle (baseline): ${(idle * 100).toFixed(1)}% of one core`);
  for (const [i, p] of pages.entries()) {
    if (i === 3) await Promise.all(pages.map((q) => q.evaluate(() => Object.assign((window as unknown as { __frames: Record<string, number> }).__frames, { out: 0, outBytes: 0, in: 0, inBytes: 0, sdpOut: 0 }))));
    await join(p, channelId);
    if (i === 0) await p.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
    else await waitConnected(p, i, WAIT);
  }
  for (const p of pages) await waitConnected(p, 3, WAIT);
  for (const p of pages) await waitAudioBytes(p, 3, WAIT);
  await Bun.sleep(1_000);
  const frames = await Promise.all(pages.map((p) => p.evaluate(() => ({ ...(window as unknown as { __frames: Record<string, number> }).__frames }))));
  const sum = (k: string) => frames.reduce((n, f) => n + f[k]!, 0);
  console.log(`signalling of the 4th join (3 peers): server in ${sum("out")} frames / ${sum("outBytes")} B, server out ${sum("in")} frames / ${sum("inBytes")} B; total ${((sum("outBytes") + sum("inBytes")) / 1000).toFixed(1)} kB = ×${((sum("outBytes") + sum("inBytes")) / frames[3]!.sdpOut!).toFixed(1)} the joiner's offer SDP (${frames[3]!.sdpOut} B)`);
  const audio = await cpu();
  console.log(`CPU, 4-way audio call: ${(audio * 100).toFixed(1)}% of one core (${((audio * 100) / 4).toFixed(1)}% per participant) = ×${(audio / idle).toFixed(1)} idle`);
  // A DOM click: Playwright's click waits for navigations, which a loaded box may not finish in its 30 s.
  for (const p of pages) await p.$eval("#voice-dock [data-voice-action='camera']", (b) => (b as HTMLButtonElement).click());
  for (const p of pages) await p.waitForFunction(() => document.querySelectorAll("#voice-dock video[data-voice-video]").length >= 3, null, WAIT);
  await Bun.sleep(3_000); // the caps (applied 2 s after the camera starts) settle
  const video = await cpu();
  console.log(`CPU, 4-way video call (640×360, 24 fps, 450 kbit/s per peer): ${(video * 100).toFixed(1)}% of one core (${((video * 100) / 4).toFixed(1)}% per participant) = ×${(video / idle).toFixed(1)} idle, ×${(video / audio).toFixed(1)} audio`);
  await leaveAll(pages);
} finally {
  for (const c of opened) await c.close().catch(() => {});
  await browser.close();
  await ctx.close();
  await coturn?.stop();
}
