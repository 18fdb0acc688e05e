// Acceptance test for issue 14's browser call client (docs/voice.md "What a client does"): real
// Chromiums with a fake microphone join a voice channel of the real server. Alice and Bob see each
// other, their peer connection reaches "connected" and audio packets arrive on both sides; mute
// stops Alice's audio; Carol, who only watches the sidebar, sees the seats live. A server that
// rewrites the DTLS fingerprint in relayed SDP (the relay hook) is caught: both clients refuse the
// connection and say why. A DM call rings, is accepted, and connects.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setSignalRelayHook, setVoiceOptions, VOICE_GRACE_MS } from "../../src/features/voice/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, MEDIA_ARGS, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, type ApiCall } from "../helpers/chat-e2e.ts";
import { recordPeerConnections, waitConnected } from "../helpers/calls-e2e.ts";
import { createUser, signIn, type TestUser } from "../helpers/users.ts";

// Browser steps use bounded waits of their own (WAIT): wide, because the shared 2-core box is
// often at a load of 15+ and four Chromium pages in a call are slow there, not wrong.
setDefaultTimeout(360_000);

const browser: Browser | null = await launchBrowser(MEDIA_ARGS);
const WAIT = { timeout: 60_000 };
const DESKTOP = { width: 1280, height: 800 };

let ctx: TestContext;
let base = "";
let call: ApiCall;
const opened: BrowserContext[] = [];
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
let communityId = "";
let loungeId = "";
let backroomId = "";
let hallId = "";
let dmId = "";
let generalPath = "";

type Person = { page: Page; problems: PageProblems };

async function open(user: TestUser, path: string, viewport = DESKTOP): Promise<Person> {
  const { page, problems } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport });
  await page.addInitScript(recordPeerConnections);
  const response = await page.goto(`${base}${path}`, { waitUntil: "load", timeout: WAIT.timeout });
  expect(response?.status()).toBe(200);
  return { page, problems };
}

/** The voice channel page with its Join button drawn by the call client. */
async function openLounge(user: TestUser, channelId = loungeId): Promise<Person> {
  const p = await open(user, `/c/${communityId}/ch/${channelId}`);
  await p.page.waitForSelector(`[data-voice-stage="${channelId}"][data-voice-ready] [data-voice-action="join"]`, WAIT);
  return p;
}

/** CPU time (clock ticks) of this test process's Chromium processes (browser, renderers, GPU, network). */
function chromiumTicks(): number {
  const children = new Map<number, number[]>();
  const stat = new Map<number, string[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      const pid = Number(name);
      stat.set(pid, fields);
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      const f = stat.get(child)!;
      ticks += Number(f[11]) + Number(f[12]); // utime + stime
      visit(child);
    }
  };
  visit(process.pid);
  return ticks;
}

const connectedPeers = (page: Page) => page.evaluate(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === "connected").length);

/** inbound-rtp audio of every connected peer connection (packets and the last audio level). */
function inboundAudio(page: Page): Promise<{ packets: number; level: number }[]> {
  return page.evaluate(async () => {
    const out: { packets: number; level: number }[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== "connected") continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") out.push({ packets: s.packetsReceived ?? 0, level: s.audioLevel ?? 0 });
      });
    }
    return out;
  });
}

/**
 * Evaluates `check` in the page every 250 ms until it answers true (bounded by WAIT). For checks
 * that must await in the page (getStats): Playwright's waitForFunction takes the Promise an async
 * predicate returns as a truthy answer and passes at once.
 */
async function pollPage(page: Page, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT.timeout;
  while (!(await page.evaluate(check))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT.timeout} ms`);
    await Bun.sleep(250);
  }
}

async function waitPackets(page: Page): Promise<number> {
  await pollPage(
    page,
    async () => {
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState !== "connected") continue;
        let n = 0;
        (await pc.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "audio") n += s.packetsReceived ?? 0;
        });
        if (n > 0) return true;
      }
      return false;
    },
    "inbound audio packets",
  );
  return (await inboundAudio(page)).reduce((n, s) => n + s.packets, 0);
}

/** Waits until `n` inbound video streams have decoded frames, and their count rises over a second. */
async function waitFrames(page: Page, n: number): Promise<void> {
  const frames = () =>
    page.evaluate(async () => {
      const out: number[] = [];
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState !== "connected") continue;
        (await pc.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded > 0) out.push(s.framesDecoded);
        });
      }
      return out;
    });
  const deadline = Date.now() + WAIT.timeout;
  let first = await frames();
  while (first.length < n && Date.now() < deadline) {
    await Bun.sleep(250);
    first = await frames();
  }
  expect(first.length).toBeGreaterThanOrEqual(n);
  await Bun.sleep(1_000);
  const later = await frames();
  expect(later.reduce((a, b) => a + b, 0)).toBeGreaterThan(first.reduce((a, b) => a + b, 0));
}

/** The loudest inbound audio level over ~3 s of samples (the fake microphone beeps). */
async function loudest(page: Page): Promise<number> {
  let max = 0;
  for (let i = 0; i < 15; i++) {
    for (const s of await inboundAudio(page)) max = Math.max(max, s.level);
    await Bun.sleep(200);
  }
  return max;
}

/** Waits until the conversation on screen shows call records of these kinds (in order, at the end). */
async function waitCallRecords(page: Page, kinds: string[]): Promise<void> {
  await page
    .waitForFunction((want) => JSON.stringify([...document.querySelectorAll<HTMLElement>("[data-call-record]")].slice(-want.length).map((e) => e.dataset.callRecord)) === JSON.stringify(want), kinds, WAIT)
    .catch(async (error) => {
      throw new Error(`call records ${JSON.stringify(await page.$$eval("[data-call-record]", (els) => els.map((e) => e.textContent)))}, wanted ${JSON.stringify(kinds)}: ${error}`);
    });
}

const rosterNames = (page: Page, channelId: string) =>
  page.$$eval(`a[data-voice-channel="${channelId}"] ~ ul.voice-roster .voice-person__name`, (els) => els.map((e) => e.textContent ?? "").sort());

async function waitRoster(page: Page, channelId: string, names: string[]): Promise<void> {
  await page
    .waitForFunction(
      ([id, want]) => JSON.stringify([...document.querySelectorAll(`a[data-voice-channel="${id}"] ~ ul.voice-roster .voice-person__name`)].map((e) => e.textContent ?? "").sort()) === JSON.stringify(want),
      [channelId, [...names].sort()] as const,
      WAIT,
    )
    .catch(async (error) => {
      throw new Error(`roster of ${channelId}: ${JSON.stringify(await rosterNames(page, channelId))}, wanted ${JSON.stringify(names)}: ${error}`);
    });
}

beforeAll(async () => {
  if (!browser) return;
  // ICE_SERVERS=[]: host candidates only (loopback), no public STUN server asked.
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone", ICE_SERVERS: "[]" }, captureLogs: true });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  call = apiCaller(ctx);
  const crew = await aliceAndBobInCommunity(ctx, call, "Call crew");
  ({ alice, bob, communityId } = crew);
  generalPath = crew.channelPath;
  carol = await createUser(ctx, { displayName: "Carol" });
  const c = await signIn(ctx, carol);
  const invite = await call(crew.aliceHeaders, "POST", `/api/communities/${communityId}/invites`, {});
  await call(c.headers, "POST", `/api/community-invites/${invite.code}/accept`);
  dave = await createUser(ctx, { displayName: "Dave" });
  await call((await signIn(ctx, dave)).headers, "POST", `/api/community-invites/${invite.code}/accept`);
  loungeId = (await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name: "Lounge", kind: "voice" })).id;
  hallId = (await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name: "Hall", kind: "voice" })).id;
  backroomId = (await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name: "Backroom", kind: "voice" })).id;
  dmId = (await call(crew.aliceHeaders, "POST", "/api/dms", { user_id: bob.id })).channel_id;
});

afterAll(async () => {
  if (ctx) setSignalRelayHook(ctx.deps, undefined);
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

describe.skipIf(!browser)("calls in the browser (fake microphone)", () => {
  test("two join a voice channel: each sees the other, the peer connection connects, audio flows both ways, mute silences, a third watching the sidebar sees the seats live", async () => {
    const carolS = await open(carol, generalPath);
    await carolS.page.waitForSelector(`a[data-voice-channel="${loungeId}"]`, WAIT);
    const a = await openLounge(alice);
    const b = await openLounge(bob);

    const clickedA = await a.page.evaluate(() => performance.now());
    await a.page.click(`[data-voice-stage="${loungeId}"] [data-voice-action="join"]`);
    await a.page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
    await waitRoster(carolS.page, loungeId, ["Alice"]);
    const clickedB = await b.page.evaluate(() => performance.now());
    await b.page.click(`[data-voice-stage="${loungeId}"] [data-voice-action="join"]`);
    await waitConnected(b.page);
    await waitConnected(a.page);
    const setupMs = await b.page.evaluate((t) => (window as unknown as { __connectedAt: number[] }).__connectedAt[0]! - t, clickedB);
    console.log(`join click → 'connected' (2 people, loopback): ${Math.round(setupMs)} ms (Alice waited ${Math.round(await a.page.evaluate((t) => (window as unknown as { __connectedAt: number[] }).__connectedAt[0]! - t, clickedA))} ms alone first)`);

    // Both see both, by name, in the call and in every sidebar; Carol (not in the call) too.
    await waitRoster(carolS.page, loungeId, ["Alice", "Bob"]);
    await waitRoster(a.page, loungeId, ["Alice (you)", "Bob"]);
    await waitRoster(b.page, loungeId, ["Alice", "Bob (you)"]);
    expect(await a.page.$$eval("#voice-dock .voice-dock__people .voice-person__name", (els) => els.map((e) => e.textContent).sort())).toEqual(["Alice (you)", "Bob"]);
    await a.page.waitForSelector("#voice-dock [data-voice-connected='1']", WAIT);

    // Audio both ways, and Alice's speaking shows (the fake microphone beeps).
    expect(await waitPackets(a.page)).toBeGreaterThan(0);
    expect(await waitPackets(b.page)).toBeGreaterThan(0);
    expect(await loudest(b.page)).toBeGreaterThan(0.01);
    await carolS.page.waitForSelector(`a[data-voice-channel="${loungeId}"] ~ ul.voice-roster .voice-person--speaking`, WAIT);

    // Bob's per-person volume for Alice is a labelled slider; devices are listed.
    await b.page.waitForSelector(`#voice-dock input[type=range][aria-label="Volume of Alice"]`, WAIT);

    // Mute: Alice's track is disabled, Bob hears silence, and everyone sees "muted".
    await a.page.click("#voice-dock [data-voice-action='mute']");
    await a.page.waitForSelector("#voice-dock [data-voice-action='mute'][aria-pressed='true']", WAIT);
    const sending = await a.page.evaluate(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.flatMap((pc) => pc.getSenders().map((s) => s.track?.enabled ?? null)));
    expect(sending).toEqual([false]);
    // Once the jitter buffer has drained what was sent before the mute (waited for, not timed), Bob's
    // level stays far below the beeps he heard (> 0.01 above, up to ~0.4): what is left is at most
    // the decoder's comfort noise (seen at 0.004 on a loaded box).
    await pollPage(b.page, async () => {
      let level = 1;
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState !== "connected") continue;
        (await pc.getStats()).forEach((st) => {
          if (st.type === "inbound-rtp" && st.kind === "audio") level = Math.min(level, st.audioLevel ?? 1);
        });
      }
      return level < 0.001;
    }, "silence after the mute");
    expect(await loudest(b.page)).toBeLessThan(0.01);
    await carolS.page.waitForFunction((id) => document.querySelector(`a[data-voice-channel="${id}"] ~ ul.voice-roster`)?.textContent?.includes("muted"), loungeId, WAIT);

    // The call UI is accessible, on a laptop and on a phone.
    expect(await seriousAxeViolations(a.page)).toEqual([]);
    await screenshot(a.page, "call-voice-channel-1280");
    await a.page.setViewportSize({ width: 360, height: 740 });
    expect(await seriousAxeViolations(a.page)).toEqual([]);
    const overflow = await a.page.evaluate(() => document.querySelector("#voice-dock")!.scrollWidth - document.querySelector("#voice-dock")!.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(a.page, "call-voice-channel-360");
    await a.page.setViewportSize(DESKTOP);

    // Bob leaves: Carol's sidebar and Alice's call drop him live; Alice's peer connection closes.
    await b.page.click("#voice-dock [data-voice-action='leave-dock']");
    await waitRoster(carolS.page, loungeId, ["Alice"]);
    await waitRoster(a.page, loungeId, ["Alice (you)"]);
    await a.page.waitForFunction(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.every((pc) => pc.connectionState === "closed"), null, WAIT);
    await a.page.click("#voice-dock [data-voice-action='leave-dock']");
    await waitRoster(carolS.page, loungeId, []);
    for (const p of [a, b, carolS]) expect(p.problems.all()).toEqual([]);
  });

  test("a server that rewrites the DTLS fingerprint in relayed SDP is caught: the receiving client refuses the connection and says why, and its sealed refusal notice tells the other side why; no media flows", async () => {
    const FAKE = Array.from({ length: 32 }, (_, i) => (i * 7 % 256).toString(16).padStart(2, "0").toUpperCase()).join(":");
    let rewritten = 0;
    // Only what Bob sends is rewritten: Alice refuses, and Bob, whose own checks pass, learns why
    // from the refusal notice Alice's device seals for his.
    setSignalRelayHook(ctx.deps, (event) => {
      if (!event.description || event.fromUserId !== bob.id) return event;
      rewritten++;
      return { ...event, description: { ...event.description, sdp: event.description.sdp.replace(/^a=fingerprint:(\S+) \S+/gm, `a=fingerprint:$1 ${FAKE}`) } };
    });
    try {
      const a = await openLounge(alice, backroomId);
      const b = await openLounge(bob, backroomId);
      await a.page.click(`[data-voice-stage="${backroomId}"] [data-voice-action="join"]`);
      await a.page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
      await b.page.click(`[data-voice-stage="${backroomId}"] [data-voice-action="join"]`);
      // Bob's offer reaches Alice rewritten: Alice refuses.
      const warning = await a.page.waitForSelector("[data-voice-warning]", WAIT);
      const text = (await warning.textContent()) ?? "";
      expect(text).toContain("The connection to Bob was refused: its security fingerprint does not match what Bob's device signed. The server may be interfering with this call.");
      expect(rewritten).toBeGreaterThan(0);
      await screenshot(a.page, "call-fingerprint-refused");
      // Bob, whose offer was refused, is told why by Alice's device (not left at "connecting…").
      const notice = await b.page.waitForSelector("[data-voice-warning]", WAIT);
      expect((await notice.textContent()) ?? "").toContain("Alice's device refused the connection: the security fingerprint it received for this browser does not match what this device signed. The server may be interfering with this call.");
      await b.page.waitForSelector(`#voice-dock [data-voice-user="${alice.id}"] [data-voice-peer-state="refused"]`, WAIT);
      expect(await b.page.textContent(`#voice-dock [data-voice-user="${alice.id}"]`)).toContain("refused by their device");
      await screenshot(b.page, "call-fingerprint-refused-other-side");
      // No media path was ever set up with the rewritten certificate.
      await Bun.sleep(1_000);
      expect(await connectedPeers(a.page)).toBe(0);
      expect(await connectedPeers(b.page)).toBe(0);
      expect(await a.page.evaluate(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.map((pc) => pc.connectionState))).toEqual(["closed"]);
      await a.page.click("#voice-dock [data-voice-action='leave-dock']");
      await b.page.click("#voice-dock [data-voice-action='leave-dock']");
    } finally {
      setSignalRelayHook(ctx.deps, undefined);
    }
  });

  test("a server that rewrites the fingerprint and drops everything the refusing side sends, its notice included: the waiting side says it is not connected and why that may be", async () => {
    const FAKE = Array.from({ length: 32 }, (_, i) => ((i * 11) % 256).toString(16).padStart(2, "0").toUpperCase()).join(":");
    let dropped = 0;
    setSignalRelayHook(ctx.deps, (event) => {
      // Nothing of Alice's reaches Bob, her refusal notice included (it may ride with candidates).
      if (event.fromUserId === alice.id) return dropped++, null;
      if (!event.description || event.fromUserId !== bob.id) return event;
      return { ...event, description: { ...event.description, sdp: event.description.sdp.replace(/^a=fingerprint:(\S+) \S+/gm, `a=fingerprint:$1 ${FAKE}`) } };
    });
    try {
      const a = await openLounge(alice, backroomId);
      const b = await openLounge(bob, backroomId);
      await a.page.click(`[data-voice-stage="${backroomId}"] [data-voice-action="join"]`);
      await a.page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
      await b.page.click(`[data-voice-stage="${backroomId}"] [data-voice-action="join"]`);
      await a.page.waitForSelector("[data-voice-warning]", WAIT);
      // Bob hears nothing from Alice's device; after the stall time his row for Alice explains.
      const flag = await b.page.waitForSelector(`#voice-dock [data-voice-user="${alice.id}"] [data-voice-peer-state="stalled"]`, { timeout: 90_000 });
      expect(await flag.textContent()).toContain("their device may have refused the connection (a security check), or the network blocks calls");
      expect(dropped).toBeGreaterThan(0);
      expect(await connectedPeers(b.page)).toBe(0);
      expect(await seriousAxeViolations(b.page)).toEqual([]);
      await a.page.click("#voice-dock [data-voice-action='leave-dock']");
      await b.page.click("#voice-dock [data-voice-action='leave-dock']");
    } finally {
      setSignalRelayHook(ctx.deps, undefined);
    }
  });

  test("push to talk with a key of one's choosing: Space by default, V once chosen (kept in this browser), the microphone sends only while it is held", async () => {
    const a = await openLounge(alice);
    await a.page.evaluate(() => {
      // Every microphone the page opens, to read its track's `enabled` (what push to talk flips).
      const w = window as unknown as { __mics: MediaStream[] };
      w.__mics = [];
      const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (c) => {
        const stream = await original(c);
        if (stream.getAudioTracks().length) w.__mics.push(stream);
        return stream;
      };
    });
    const sending = () => a.page.evaluate(() => (window as unknown as { __mics: MediaStream[] }).__mics.at(-1)!.getAudioTracks()[0]!.enabled);
    await a.page.click(`[data-voice-stage="${loungeId}"] [data-voice-action="join"]`);
    await a.page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
    await a.page.click("#voice-dock [data-voice-action='settings']");
    expect(await a.page.textContent("#voice-dock .voice-settings__key kbd")).toBe("Space");
    await a.page.check("#voice-dock [data-voice-action='ptt']");
    await a.page.waitForFunction(() => !(window as unknown as { __mics: MediaStream[] }).__mics.at(-1)!.getAudioTracks()[0]!.enabled, null, WAIT);
    // Choose V by keyboard: focus "Change key", Enter, then press V.
    await a.page.focus("#voice-dock [data-voice-action='ptt-key']");
    await a.page.keyboard.press("Enter");
    await a.page.waitForSelector("#voice-dock [data-voice-action='ptt-key'][aria-pressed='true']", WAIT);
    expect(await a.page.textContent("#voice-dock .voice-settings__key")).toContain("Press the key to use for push to talk");
    await a.page.keyboard.press("v");
    await a.page.waitForFunction(() => document.querySelector("#voice-dock .voice-settings__key kbd")?.textContent === "V", null, WAIT);
    expect(await a.page.textContent("#voice-dock .voice-settings__check")).toContain("hold V while the page has focus");
    expect(await seriousAxeViolations(a.page)).toEqual([]);
    await screenshot(a.page, "call-push-to-talk-key");
    // Held on the page (not in a field), V sends; Space no longer does.
    await a.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await a.page.keyboard.down("Space");
    await Bun.sleep(200);
    expect(await sending()).toBe(false);
    await a.page.keyboard.up("Space");
    await a.page.keyboard.down("v");
    await a.page.waitForFunction(() => (window as unknown as { __mics: MediaStream[] }).__mics.at(-1)!.getAudioTracks()[0]!.enabled, null, WAIT);
    await a.page.keyboard.up("v");
    await a.page.waitForFunction(() => !(window as unknown as { __mics: MediaStream[] }).__mics.at(-1)!.getAudioTracks()[0]!.enabled, null, WAIT);
    // Escape cancels a new choice; the key is kept in this browser across a reload.
    await a.page.click("#voice-dock [data-voice-action='ptt-key']");
    await a.page.keyboard.press("Escape");
    await a.page.waitForFunction(() => document.querySelector("#voice-dock .voice-settings__key kbd")?.textContent === "V", null, WAIT);
    await a.page.click("#voice-dock [data-voice-action='leave-dock']");
    await a.page.reload();
    expect(await a.page.evaluate(() => localStorage.getItem("hearth.voice.pttKey"))).toBe("KeyV");
    expect(a.problems.all()).toEqual([]);
  });

  test("a DM call: Alice calls, Bob's page rings, he accepts, the call connects with audio, camera and screen share show on the other side, and it survives navigation", async () => {
    const b = await open(bob, generalPath);
    await b.page.waitForSelector("[data-chat-ready]", WAIT);
    const a = await open(alice, `/dms/${dmId}`);
    await a.page.waitForSelector(`button[data-voice-call="${dmId}"]:not([disabled])`, WAIT);
    await a.page.click(`button[data-voice-call="${dmId}"]`);
    const ring = await b.page.waitForSelector(`[data-voice-ring="${dmId}"]`, WAIT);
    expect(await ring.textContent()).toContain("Alice is calling you");
    expect(await seriousAxeViolations(b.page)).toEqual([]);
    await b.page.click(`[data-voice-action="accept:${dmId}"]`);
    await waitConnected(a.page);
    await waitConnected(b.page);
    expect(await waitPackets(a.page)).toBeGreaterThan(0);
    expect(await waitPackets(b.page)).toBeGreaterThan(0);
    await b.page.waitForSelector(`[data-voice-ring="${dmId}"]`, { state: "detached", timeout: WAIT.timeout });

    // Camera, then screen share (the fake camera's and screen's pictures): tiles on the other side
    // whose decoded frames keep rising; usable and accessible at 360 px.
    await a.page.click("#voice-dock [data-voice-action='camera']");
    await b.page.waitForSelector(`#voice-dock video[data-voice-video="${alice.id}"]`, WAIT);
    await waitFrames(b.page, 1);
    await a.page.click("#voice-dock [data-voice-action='screen']");
    await b.page.waitForFunction((id) => document.querySelectorAll(`#voice-dock video[data-voice-video="${id}"]`).length === 2, alice.id, WAIT);
    await waitFrames(b.page, 2);
    await a.page.waitForSelector("#voice-dock .voice-tile__video--self", WAIT);
    await b.page.setViewportSize({ width: 360, height: 740 });
    expect(await seriousAxeViolations(b.page)).toEqual([]);
    expect(await b.page.evaluate(() => document.querySelector("#voice-dock")!.scrollWidth - document.querySelector("#voice-dock")!.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(b.page, "call-dm-video-360");

    // Grid and focus layouts at 360 px: a tap on a tile shows it large (the other becomes a
    // thumbnail), Enter on the other tile moves the focus there, "Grid view" goes back.
    const widths = () => b.page.$$eval("#voice-dock button.voice-tile", (els) => els.map((e) => ({ focused: e.classList.contains("voice-tile--focused"), pressed: e.getAttribute("aria-pressed"), width: e.getBoundingClientRect().width })));
    expect((await widths()).map((t) => t.focused)).toEqual([false, false]);
    await b.page.click("#voice-dock button.voice-tile >> nth=0");
    await b.page.waitForSelector("#voice-dock .voice-tiles--focus button.voice-tile--focused[aria-pressed='true']", WAIT);
    let tiles = await widths();
    const big = tiles.find((t) => t.focused)!;
    const small = tiles.find((t) => !t.focused)!;
    expect(big.width).toBeGreaterThan(small.width * 2);
    expect(await seriousAxeViolations(b.page)).toEqual([]);
    expect(await b.page.evaluate(() => document.querySelector("#voice-dock")!.scrollWidth - document.querySelector("#voice-dock")!.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(b.page, "call-dm-video-focus-360");
    const other = await b.page.$eval("#voice-dock button.voice-tile:not(.voice-tile--focused)", (e) => (e as HTMLElement).dataset.voiceAction!);
    await b.page.focus(`#voice-dock [data-voice-action="${other}"]`);
    await b.page.keyboard.press("Enter");
    await b.page.waitForSelector(`#voice-dock [data-voice-action="${other}"].voice-tile--focused`, WAIT);
    // The redraw keeps keyboard focus on the tile that was used.
    expect(await b.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.voiceAction)).toBe(other);
    await b.page.click("#voice-dock [data-voice-action='grid']");
    await b.page.waitForSelector("#voice-dock .voice-tiles--focus", { state: "detached", timeout: WAIT.timeout });
    tiles = await widths();
    expect(tiles.map((t) => t.focused)).toEqual([false, false]);
    expect(await b.page.$("#voice-dock [data-voice-action='grid']")).toBeNull();
    await b.page.setViewportSize(DESKTOP);
    await a.page.click("#voice-dock [data-voice-action='screen']");
    await a.page.click("#voice-dock [data-voice-action='camera']");
    await b.page.waitForFunction((id) => document.querySelectorAll(`#voice-dock video[data-voice-video="${id}"]`).length === 0, alice.id, WAIT);
    // Bob moves to another page of the app: the call carries on (the audio is outside the page).
    await b.page.click(`a[data-voice-channel="${loungeId}"]`);
    await b.page.waitForSelector(`[data-voice-stage="${loungeId}"]`, WAIT);
    await b.page.waitForSelector("#voice-dock [data-voice-connected='1']", WAIT);
    const before = (await inboundAudio(b.page)).reduce((n, s) => n + s.packets, 0);
    await Bun.sleep(1_000);
    expect((await inboundAudio(b.page)).reduce((n, s) => n + s.packets, 0)).toBeGreaterThan(before);
    await a.page.click(`button[data-voice-call="${dmId}"]`); // Hang up
    await b.page.waitForFunction(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.every((pc) => pc.connectionState === "closed"), null, WAIT);

    // The call record: Alice's client wrote "started" and "ended · duration" into the DM as
    // encrypted messages; both draw them as compact rows, and the server holds only ciphertext.
    await waitCallRecords(a.page, ["started", "ended"]);
    expect(await a.page.textContent(`[data-call-record="ended"] .msg__text`)).toMatch(/^Call ended · \d+ (s|min)$/);
    // Bob is not left sitting alone in the DM's call: it ended for him when Alice hung up.
    await b.page.waitForSelector("#voice-dock [data-voice-action='leave-dock']", { state: "detached", timeout: WAIT.timeout });
    expect(await b.page.textContent("#voice-dock")).toContain("Everyone else left; the call ended.");
    await b.page.goto(`${base}/dms/${dmId}`);
    await waitCallRecords(b.page, ["started", "ended"]);
    expect(await b.page.textContent(`[data-call-record="started"] .msg__text`)).toBe("Started a call");
    expect(await seriousAxeViolations(b.page)).toEqual([]);
    await screenshot(b.page, "call-records-dm");
    const stored = await ctx.database.db.selectFrom("messages").select("ciphertext").where("channel_id", "=", dmId).execute();
    expect(stored.length).toBeGreaterThanOrEqual(2);
    for (const m of stored) expect(Buffer.from(String(m.ciphertext), "base64url").toString("latin1") + String(m.ciphertext)).not.toMatch(/Call ended|Started a call|"seconds"/);
    for (const p of [a, b]) expect(p.problems.all()).toEqual([]);
  });

  test("the caller's tab closes mid-call: Bob's call ends once Alice's seat is freed, and Alice's next page of the app writes the closing 'Call ended' record, once", async () => {
    setVoiceOptions(ctx.deps, { graceMs: 1_000 });
    try {
      const b = await open(bob, `/dms/${dmId}`);
      await b.page.waitForSelector("[data-chat-ready]", WAIT);
      const a = await open(alice, `/dms/${dmId}`);
      await a.page.waitForSelector(`button[data-voice-call="${dmId}"]:not([disabled])`, WAIT);
      await a.page.click(`button[data-voice-call="${dmId}"]`);
      await b.page.waitForSelector(`[data-voice-action="accept:${dmId}"]`, WAIT);
      await b.page.click(`[data-voice-action="accept:${dmId}"]`);
      await waitConnected(a.page);
      await waitConnected(b.page);
      await waitCallRecords(b.page, ["started"]);
      // The log of the call in progress is kept in Alice's browser, not on the server.
      await a.page.waitForFunction(() => Object.values(JSON.parse(localStorage.getItem("hearth.voice.records") ?? "{}") as { answeredAt: number }[]).some((s) => s.answeredAt > 0), null, WAIT);
      const context = a.page.context();
      await a.page.close();
      // Bob is not left alone: once Alice's seat is freed (the grace after her socket closed), his call ends.
      await b.page.waitForFunction(() => document.querySelector("#voice-dock")?.textContent?.includes("Everyone else left; the call ended."), null, WAIT);
      expect(await b.page.$("#voice-dock [data-voice-action='leave-dock']")).toBeNull();
      // Alice opens Hearth again in the same browser: her next page writes the closing record.
      const again = await context.newPage();
      await again.addInitScript(recordPeerConnections);
      await again.goto(`${base}/dms/${dmId}`, { waitUntil: "load", timeout: WAIT.timeout });
      await waitCallRecords(again, ["started", "ended"]);
      expect(await again.textContent(`[data-call-record="ended"] >> nth=-1`)).toMatch(/Call ended · \d+ (s|min)/);
      await waitCallRecords(b.page, ["started", "ended"]);
      await again.waitForFunction(() => localStorage.getItem("hearth.voice.records") === null, null, WAIT);
      // Written once: a reload of Alice's page finds nothing left to write.
      await again.reload({ waitUntil: "load" });
      await again.waitForSelector(`button[data-voice-call="${dmId}"]:not([disabled])`, WAIT);
      await waitCallRecords(again, ["started", "ended"]);
      expect(b.problems.all()).toEqual([]);
    } finally {
      setVoiceOptions(ctx.deps, { graceMs: VOICE_GRACE_MS });
    }
  });

  test("a DM call declined on one of Bob's devices stops the ring on the other, and Alice's DM gets a 'Call declined' record", async () => {
    const b1 = await open(bob, generalPath);
    const b2 = await open(bob, `/dms/${dmId}`);
    for (const p of [b1, b2]) await p.page.waitForSelector("[data-chat-ready]", WAIT);
    const a = await open(alice, `/dms/${dmId}`);
    await a.page.waitForSelector(`button[data-voice-call="${dmId}"]:not([disabled])`, WAIT);
    await a.page.click(`button[data-voice-call="${dmId}"]`);
    await b1.page.waitForSelector(`[data-voice-ring="${dmId}"]`, WAIT);
    await b2.page.waitForSelector(`[data-voice-ring="${dmId}"]`, WAIT);
    await b2.page.click(`[data-voice-action="decline:${dmId}"]`);
    await b1.page.waitForSelector(`[data-voice-ring="${dmId}"]`, { state: "detached", timeout: WAIT.timeout });
    await a.page.waitForFunction(() => document.querySelector("#voice-dock")?.textContent?.includes("declined the call"), null, WAIT);
    await waitCallRecords(a.page, ["started", "declined"]);
    // Bob's open DM shows it live too.
    await b2.page.waitForFunction(() => [...document.querySelectorAll("[data-call-record] .msg__text")].some((e) => e.textContent === "Call declined"), null, WAIT);
    // Hang up: no further record (a new one would come last, below the history that may still
    // be decrypting above).
    await a.page.click(`button[data-voice-call="${dmId}"]`);
    await a.page.waitForSelector(`button[data-voice-call="${dmId}"]:not(.btn--danger)`, WAIT);
    await Bun.sleep(2_000);
    await waitCallRecords(a.page, ["started", "declined"]);
    for (const p of [a, b1, b2]) expect(p.problems.all()).toEqual([]);
  });

  test("four people: the full mesh connects, audio reaches everyone, one leaves and the others update", async () => {
    for (const c of opened.splice(0)) await c.close().catch(() => {}); // idle pages would blur the CPU figure
    const people = [alice, bob, carol, dave];
    const pages: Person[] = [];
    let lastSetup = 0;
    for (const [i, user] of people.entries()) {
      const p = await openLounge(user, hallId);
      pages.push(p);
      const clicked = await p.page.evaluate(() => performance.now());
      await p.page.click(`[data-voice-stage="${hallId}"] [data-voice-action="join"]`);
      if (i === 0) {
        await p.page.waitForSelector("#voice-dock [data-voice-action='mute']", WAIT);
        continue;
      }
      await waitConnected(p.page, i, { timeout: 120_000 });
      lastSetup = await p.page.evaluate(([t, n]) => (window as unknown as { __connectedAt: number[] }).__connectedAt[n - 1]! - t, [clicked, i] as const);
      console.log(`join click → all ${i} peer connections 'connected' (${i + 1} people, loopback): ${Math.round(lastSetup)} ms`);
    }
    for (const p of pages) await waitConnected(p.page, 3, { timeout: 120_000 });
    for (const p of pages) await p.page.waitForSelector("#voice-dock [data-voice-connected='3']", WAIT);
    // Every peer connection of every page receives audio.
    for (const p of pages) {
      await pollPage(
        p.page,
        async () => {
          const counts: number[] = [];
          for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
            if (pc.connectionState !== "connected") continue;
            let n = 0;
            (await pc.getStats()).forEach((s) => {
              if (s.type === "inbound-rtp" && s.kind === "audio") n += s.packetsReceived ?? 0;
            });
            counts.push(n);
          }
          return counts.length === 3 && counts.every((n) => n > 0);
        },
        "audio from all three peers",
      );
    }
    const t0 = chromiumTicks();
    const started = performance.now();
    await Bun.sleep(10_000);
    const cpu = (chromiumTicks() - t0) / 100 / ((performance.now() - started) / 1000);
    console.log(`4-way audio call, one Chromium with 4 pages: ${(cpu * 100).toFixed(0)}% of one core in total, ~${((cpu * 100) / 4).toFixed(0)}% per participant`);
    await waitRoster(pages[0]!.page, hallId, ["Alice (you)", "Bob", "Carol", "Dave"]);
    await pages[3]!.page.click("#voice-dock [data-voice-action='leave-dock']");
    for (const p of pages.slice(0, 3)) await p.page.waitForSelector("#voice-dock [data-voice-connected='2']", WAIT);
    await waitRoster(pages[1]!.page, hallId, ["Alice", "Bob (you)", "Carol"]);
    for (const p of pages.slice(0, 3)) await p.page.click("#voice-dock [data-voice-action='leave-dock']");
    await waitRoster(pages[3]!.page, hallId, []);
    for (const p of pages) expect(p.problems.all()).toEqual([]);
  }, 480_000);
});
