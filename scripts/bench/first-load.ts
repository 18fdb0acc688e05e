/**
 * First loads in Chromium (issue 13 "Measure"), against a real server on loopback (gzip as the
 * Accept-Encoding, as asked; the server also speaks br):
 *
 *  1. Bytes on the wire (headers and encoded bodies, Resource Timing's transferSize) and requests for home, a community channel and a DM, cold (HTTP cache, service worker and
 *     its cache cleared) and warm (the same page again). Baseline in the same run: the static
 *     offline page (the app's frame, its stylesheet and scripts, no data), cold.
 *  2. Time to the first decrypted message (from navigation start to the message's text on
 *     screen, the page's own clock) in the channel and the DM, on a throttled profile (CPU 4×,
 *     1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT, through the DevTools protocol), cold and warm.
 *     Baseline in the same run: the same loads unthrottled.
 *
 * The reader's device keys stay (IndexedDB is not cleared): "cold" is a returning user's browser
 * with an empty HTTP cache, not a new device. Alice's messages are real ones: she types them in
 * her own browser (Sender Keys in the channel, a pairwise Double Ratchet envelope in the DM).
 *
 *   bun scripts/bench/first-load.ts [--runs 3] [--ttfd-only]
 */
import { parseArgs } from "node:util";
import type { CDPSession, Page } from "playwright-core";
import { createTestContext } from "../../test/helpers/app.ts";
import { launchBrowser } from "../../test/helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted } from "../../test/helpers/chat-e2e.ts";
import { ensureClientBuild } from "../build.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, "ttfd-only": { type: "boolean", default: false } } });
const runs = Math.max(1, Number(values.runs));
const WAIT = { timeout: 120_000 };

await ensureClientBuild();
const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${ctx.app.server!.port}`;
const browser = await launchBrowser();
if (!browser) {
  console.log("skip: needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH)");
  await ctx.close();
  process.exit(0);
}
const opened: import("playwright-core").BrowserContext[] = [];

async function chatReady(page: Page): Promise<void> {
  await page.waitForSelector("[data-chat-ready]", WAIT);
  await page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
}

async function say(page: Page, text: string): Promise<void> {
  await page.locator("#composer-input").fill(text);
  await page.locator("#composer-input").press("Enter");
  await page.waitForFunction((t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending")), text, WAIT);
}

type Load = { requests: number; network: number; bytes: number; decryptedMs: number | null };

/**
 * One navigation, counted by the page's own Resource Timing (the document, every asset, every API
 * call; not the socket): a request answered from the HTTP cache or the service worker's cache
 * transfers 0 bytes; the others transfer headers and encoded body (`transferSize`).
 */
async function measure(page: Page, cdp: CDPSession, path: string, opts: { cold: boolean; text?: string }): Promise<Load> {
  await page.goto("about:blank");
  if (opts.cold) {
    await cdp.send("Network.clearBrowserCache");
    await cdp.send("Storage.clearDataForOrigin", { origin: base, storageTypes: "cache_storage,service_workers" });
  }
  await page.goto(`${base}${path}`, { waitUntil: "load", timeout: WAIT.timeout });
  let decryptedMs: number | null = null;
  if (opts.text) {
    const handle = await page.waitForFunction(
      (t) => ([...document.querySelectorAll<HTMLElement>(".msg[data-state='ok'] .msg__text")].some((m) => m.textContent?.includes(t)) ? performance.now() : 0),
      opts.text,
      { ...WAIT, polling: 10 },
    );
    decryptedMs = (await handle.jsonValue()) as number;
  }
  await page.waitForLoadState("networkidle", WAIT);
  const entries = await page.evaluate((origin) =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
      .filter((e) => e.name.startsWith(origin))
      .map((e) => (e as PerformanceResourceTiming).transferSize),
  base);
  const network = entries.filter((n) => n > 0);
  return { requests: entries.length, network: network.length, bytes: network.reduce((a, b) => a + b, 0), decryptedMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

try {
  const call = apiCaller(ctx);
  const crew = await aliceAndBobInCommunity(ctx, call, "Bench team");
  const dm = await call(crew.aliceHeaders, "POST", "/api/dms", { user_id: crew.bob.id });
  const dmPath = `/dms/${dm.channel_id}`;
  const channelText = `bench channel message ${crypto.randomUUID().slice(0, 8)}`;
  const dmText = `bench DM message ${crypto.randomUUID().slice(0, 8)}`;

  // Bob's device exists before Alice writes (she encrypts to it); then Alice writes, Bob reads.
  const bob = await openSignedIn(browser, ctx, base, crew.bob, { track: opened });
  for (const path of [crew.channelPath, dmPath]) {
    await bob.page.goto(`${base}${path}`, { waitUntil: "load" });
    await chatReady(bob.page);
  }
  const alice = await openSignedIn(browser, ctx, base, crew.alice, { track: opened });
  await alice.page.goto(`${base}${crew.channelPath}`, { waitUntil: "load" });
  await chatReady(alice.page);
  await say(alice.page, channelText);
  await alice.page.goto(`${base}${dmPath}`, { waitUntil: "load" });
  await chatReady(alice.page);
  await say(alice.page, dmText);
  await alice.context.close();
  for (const [path, text] of [
    [crew.channelPath, channelText],
    [dmPath, dmText],
  ] as const) {
    await bob.page.goto(`${base}${path}`, { waitUntil: "load" });
    await seesDecrypted(bob.page, text, WAIT);
  }

  const page = bob.page;
  const cdp = await bob.context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setExtraHTTPHeaders", { headers: { "Accept-Encoding": "gzip" } });

  // 1. Transfer sizes and requests.
  const pages: [string, string, string | undefined][] = [
    ["static offline page (baseline)", "/offline", undefined],
    ["home", "/", undefined],
    ["community channel", crew.channelPath, channelText],
    ["DM", dmPath, dmText],
  ];
  console.log(`first load over loopback, Accept-Encoding: gzip; medians of ${runs}; bytes = headers + encoded bodies of the requests that reached the network (Resource Timing transferSize)`);
  console.log(["page", "cold: requests (network)", "cold: bytes", "× baseline", "warm: requests (network)", "warm: bytes"].join(" | "));
  let baselineBytes = 0;
  for (const [name, path, text] of values["ttfd-only"] ? [] : pages) {
    const target = { page, cdp };
    const cold: Load[] = [];
    const warm: Load[] = [];
    for (let i = 0; i < runs; i++) {
      cold.push(await measure(target.page, target.cdp, path, { cold: true, text }));
      warm.push(await measure(target.page, target.cdp, path, { cold: false, text }));
    }
    const coldBytes = median(cold.map((l) => l.bytes));
    if (!baselineBytes) baselineBytes = coldBytes;
    console.log(
      [name, `${median(cold.map((l) => l.requests))} (${median(cold.map((l) => l.network))})`, kib(coldBytes), `${(coldBytes / baselineBytes).toFixed(2)}×`, `${median(warm.map((l) => l.requests))} (${median(warm.map((l) => l.network))})`, kib(median(warm.map((l) => l.bytes)))].join(" | "),
    );
  }

  // 2. Time to the first decrypted message, throttled vs not.
  const throttle = async (on: boolean) => {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: on ? 4 : 1 });
    await cdp.send("Network.emulateNetworkConditions", on ? { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8) | 0, uploadThroughput: (750e3 / 8) | 0 } : { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  };
  console.log(`\ntime to the first decrypted message (navigation start to text on screen), medians of ${runs}`);
  console.log(["page", "unthrottled cold (baseline)", "throttled cold", "× baseline", "unthrottled warm", "throttled warm", "× baseline"].join(" | "));
  for (const [name, path, text] of pages.filter((p) => p[2])) {
    const sample = async (throttled: boolean, cold: boolean) => {
      await throttle(throttled);
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) {
        if (!cold) await measure(page, cdp, path, { cold: false, text }); // prime the cache
        xs.push((await measure(page, cdp, path, { cold, text })).decryptedMs!);
      }
      await throttle(false);
      return median(xs);
    };
    const [baseCold, slowCold, baseWarm, slowWarm] = [await sample(false, true), await sample(true, true), await sample(false, false), await sample(true, false)];
    const ms = (n: number) => `${(n / 1000).toFixed(2)} s`;
    console.log([name, ms(baseCold), ms(slowCold), `${(slowCold / baseCold).toFixed(1)}×`, ms(baseWarm), ms(slowWarm), `${(slowWarm / baseWarm).toFixed(1)}×`].join(" | "));
  }
} finally {
  for (const c of opened) await c.close().catch(() => {});
  await browser.close();
  await ctx.close();
}
