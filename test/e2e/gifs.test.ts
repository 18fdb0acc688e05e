// GIF search in two browsers (issue 18 §2, docs/integrations.md "GIF search"), against a loopback
// stand-in for the Giphy API and its media hosts (base URL and media resolution injected through
// deps, as test/features/gifs/gifs.test.ts does; nothing leaves 127.0.0.1). At 360 px Alice opens
// the picker from the composer by keyboard (axe clean, no horizontal scroll), searches, moves to
// the second GIF with the arrow keys and sends it with Enter. Bob sees it in the message, loaded
// from Hearth's media proxy (same origin); the stand-in served the file to the server, and
// neither browser asked the stand-in or a Giphy host for anything; no CSP violation. The GIF's
// URL and title are nowhere in the database, its dump or the data directory. With GIPHY_API_KEY
// unset the composer has no GIF button.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sql } from "kysely";
import type { PGlite } from "@electric-sql/pglite";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, type SignedInBrowser } from "../helpers/chat-e2e.ts";
import { createInspectableTestDatabase } from "../helpers/db.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";

setDefaultTimeout(180_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: the GIF browser test needs Chromium (/usr/bin/chromium)");
const WAIT = { timeout: 30_000 };
const PHONE = { width: 360, height: 740 };
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const KEY = `giphy-key-${RUN}`;
const TITLES = [`Otter wave ${RUN}`, `PLAINTEXT-GIFTITLE-${RUN}`, `Otter nap ${RUN}`];
const IDS = TITLES.map((_, i) => `g${i}x${RUN}`);
// A 1×1 GIF.
const GIF_BYTES = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b]);

type Seen = { path: string; userAgent: string };
const seen: Seen[] = [];
let standIn: ReturnType<typeof Bun.serve> | undefined;
let ctx: TestContext;
let off: TestContext;
let base = "";
let offBase = "";
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDatabaseDir = () => {};
const opened: BrowserContext[] = [];
/** Every URL either browser page asked for (the network log). */
const requested: string[] = [];

const mediaHost = () => `media0.giphy.com:${standIn!.port}`;
const gifUrl = (i: number) => `http://${mediaHost()}/media/v1.Y2lk/${IDS[i]}/200.gif`;

beforeAll(async () => {
  if (!browser) return;
  standIn = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      seen.push({ path: url.pathname, userAgent: request.headers.get("user-agent") ?? "" });
      if (url.pathname === "/v1/gifs/search" || url.pathname === "/v1/gifs/trending") {
        const data = IDS.map((id, i) => ({
          id,
          title: TITLES[i],
          images: {
            fixed_height: { url: `${gifUrl(i)}?cid=tracking&rid=200.gif`, width: "200", height: "150" },
            fixed_height_small: { url: `http://${mediaHost()}/media/${id}/100.gif?cid=tracking`, width: "100", height: "75" },
          },
        }));
        return Response.json({ data, pagination: { total_count: data.length, count: data.length, offset: 0 }, meta: { status: 200 } });
      }
      if (url.pathname.startsWith("/media/")) return new Response(GIF_BYTES, { headers: { "content-type": "image/gif" } });
      return new Response("no", { status: 404 });
    },
  });
  const inspectable = await createInspectableTestDatabase("e2e-gifs");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  ctx = await createTestContext({ database: inspectable.database, env: { COMMUNITY_CREATION_MODE: "anyone", GIPHY_API_KEY: KEY }, captureLogs: true });
  ctx.deps.gifs = {
    apiBaseUrl: `http://127.0.0.1:${standIn.port}`,
    allowHttpMedia: true,
    // The media host keeps its name (media0.giphy.com); only its address is the stand-in's.
    mediaPolicy: { resolve: async () => ["127.0.0.1"], allowAddress: (ip) => ip === "127.0.0.1", allowPort: (port) => port === standIn!.port },
  };
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  off = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  off.app.listen({ hostname: "127.0.0.1", port: 0 });
  offBase = `http://127.0.0.1:${off.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  standIn?.stop(true);
  await ctx?.close();
  await off?.close();
  removeDatabaseDir();
});

async function openChat(p: Page, url: string): Promise<void> {
  expect((await p.goto(url, { waitUntil: "load" }))?.status()).toBe(200);
  await p.waitForSelector("[data-chat-ready]", WAIT);
  await p.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
}

function logRequests(s: SignedInBrowser): void {
  s.context.on("request", (r) => requested.push(r.url()));
}

const noHorizontalScroll = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);

describe.skipIf(!browser)("GIF search in the browser", () => {
  test("Alice picks a GIF by keyboard at 360 px; Bob sees it through Hearth's media proxy; the browsers never reach the provider", async () => {
    const call = apiCaller(ctx);
    const crew = await aliceAndBobInCommunity(ctx, call, "GIF crew");
    const alice = await openSignedIn(browser!, ctx, base, crew.alice, { track: opened, viewport: PHONE });
    const bob = await openSignedIn(browser!, ctx, base, crew.bob, { track: opened });
    logRequests(alice);
    logRequests(bob);
    await openChat(alice.page, `${base}${crew.channelPath}`);
    await openChat(bob.page, `${base}${crew.channelPath}`);
    const a = alice.page;

    // By keyboard: from the message box, Tab until the GIF button has the focus, then Enter.
    await a.locator("#composer-input").focus();
    await a.waitForFunction(() => !document.querySelector<HTMLButtonElement>(".composer__gif")?.disabled, undefined, WAIT);
    let onButton = false;
    for (let i = 0; i < 8 && !onButton; i++) {
      await a.keyboard.press("Tab");
      onButton = await a.evaluate(() => document.activeElement?.classList.contains("composer__gif") ?? false);
    }
    expect(onButton).toBe(true);
    await a.keyboard.press("Enter");
    const picker = a.getByRole("dialog", { name: "Choose a GIF" });
    await picker.waitFor(WAIT);
    await a.waitForFunction(() => document.activeElement?.id === "gif-picker-search", undefined, WAIT);
    expect(await a.locator(".composer__gif").getAttribute("aria-expanded")).toBe("true");
    // Trending first, then the search.
    await a.locator(".gif-picker__item").first().waitFor(WAIT);
    await a.keyboard.type("otter");
    await a.keyboard.press("Enter");
    await a.locator(".gif-picker__status", { hasText: "for “otter”" }).waitFor(WAIT);
    expect(await a.locator(".gif-picker__item").count()).toBe(3);
    const search = seen.find((s) => s.path === "/v1/gifs/search");
    expect(search).toBeDefined();
    // The thumbnails came through Hearth's media proxy and loaded.
    await a.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>(".gif-picker__item img")].every((img) => img.complete && img.naturalWidth > 0), undefined, WAIT);
    for (const src of await a.locator(".gif-picker__item img").evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).src))) {
      expect(new URL(src).origin).toBe(base);
      expect(new URL(src).pathname).toBe("/api/gifs/media");
    }
    expect(await seriousAxeViolations(a, "#gif-picker")).toEqual([]);
    expect(await noHorizontalScroll(a)).toBe(true);
    expect(await picker.evaluate((box) => box.scrollWidth <= box.clientWidth + 1)).toBe(true);
    await screenshot(a, "gif-picker-360");

    // ArrowDown to the first GIF, ArrowRight to the second, Enter sends it.
    await a.keyboard.press("ArrowDown");
    await a.keyboard.press("ArrowRight");
    expect(await a.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(`Send GIF: ${TITLES[1]}`);
    await a.keyboard.press("Enter");
    await picker.waitFor({ state: "detached", ...WAIT });
    expect(await a.locator(".composer__gif").getAttribute("aria-expanded")).toBe("false");

    // Bob: the GIF in the decrypted message, from Hearth's media proxy, loaded.
    const img = bob.page.locator(".msg[data-state='ok'] .msg__gif img");
    await img.waitFor(WAIT);
    await bob.page.waitForFunction(() => {
      const i = document.querySelector<HTMLImageElement>(".msg[data-state='ok'] .msg__gif img");
      return !!i && i.complete && i.naturalWidth > 0;
    }, undefined, WAIT);
    const src = new URL((await img.getAttribute("src"))!, base);
    expect(src.origin).toBe(base);
    expect(src.pathname).toBe("/api/gifs/media");
    expect(src.searchParams.get("url")).toBe(gifUrl(1)); // no tracking query
    expect(await img.getAttribute("alt")).toBe(`GIF: ${TITLES[1]}`);
    // Alice's own copy too.
    await a.locator(".msg[data-state='ok'] .msg__gif img").waitFor(WAIT);
    expect(await noHorizontalScroll(a)).toBe(true);

    // The stand-in served the chosen GIF to the server (not a browser: its user agent is not
    // Chromium's), and no browser request went to the stand-in or a Giphy host.
    const fetchedGif = seen.filter((s) => s.path === `/media/v1.Y2lk/${IDS[1]}/200.gif`);
    expect(fetchedGif.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.userAgent).not.toContain("Chrome");
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => new URL(u).port === String(standIn!.port) || /giphy\.com$/i.test(new URL(u).hostname))).toEqual([]);
    expect(requested.filter((u) => u.includes("/api/gifs/media?url="))).not.toEqual([]);
    expect(requested.some((u) => u.includes("api_key") || u.includes(KEY))).toBe(false);
    expect(alice.problems.cspViolations).toEqual([]);
    expect(bob.problems.cspViolations).toEqual([]);
    expect(alice.problems.all()).toEqual([]);
    expect(bob.problems.all()).toEqual([]);
  });

  test("no GIF URL or title in the database, its dump, the data directory or the logs", async () => {
    const control = `CTRL-GIF-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-gifs-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    const markers = [TITLES[1]!, IDS[1]!, `${mediaHost()}/media/v1.Y2lk/${IDS[1]}`];
    const { hits, controlFoundIn, rows, scannedBytes } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers, control, pglite, pgliteDir, logs: ctx.logs });
    console.log(`plaintext scan: ${markers.length} GIF markers over ${rows} rows and ${(scannedBytes / 1e6).toFixed(1)} MB: ${hits.length} hits`);
    expect(hits).toEqual([]);
    expect(controlFoundIn.has("table")).toBe(true);
    if (pglite) expect(controlFoundIn.has("pglite")).toBe(true);
    // The key itself is in no log line either.
    expect(ctx.logs.some((l) => l.includes(KEY))).toBe(false);
  });

  test("with GIPHY_API_KEY unset the chat page has no GIF button", async () => {
    const call = apiCaller(off);
    const crew = await aliceAndBobInCommunity(off, call, "No GIF crew");
    const alice = await openSignedIn(browser!, off, offBase, crew.alice, { track: opened, viewport: PHONE });
    await openChat(alice.page, `${offBase}${crew.channelPath}`);
    expect(await alice.page.locator("#composer-input").count()).toBe(1);
    expect(await alice.page.locator(".composer__gif").count()).toBe(0);
    expect(await alice.page.getByRole("button", { name: "Insert a GIF" }).count()).toBe(0);
    const r = await alice.page.evaluate(async () => (await fetch("/api/gifs/search?q=otter", { credentials: "same-origin" })).status);
    expect(r).toBe(404);
    expect(alice.problems.cspViolations).toEqual([]);
  });
});
