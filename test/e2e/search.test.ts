// Acceptance test for issue 17 §5 (encrypted search in the browser), in Chromium against the real
// server: Alice writes from the real chat engine under Bun (test/helpers/engines.ts), Bob reads in
// his own browser context. A word of a message Bob received before a reload is found and the
// result opens the channel around that message, highlighted; the requests made while searching
// carry neither the query nor anything derived from it; a dump of every IndexedDB database of
// Bob's browser holds no marker; after Bob is removed from a private channel its results go.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted, type TwoMembers } from "../helpers/chat-e2e.ts";
import { openDevice, type Device } from "../helpers/engines.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";

setDefaultTimeout(240_000);
const WAIT = { timeout: 60_000 };

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: search e2e needs Chromium (CHROMIUM_PATH)");
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 10);
const WORD = `zebraword${RUN}`;
const PRIVATE_WORD = `otterword${RUN}`;
const MARKERS = [WORD, PRIVATE_WORD];

let ctx: TestContext;
let base = "";
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

/** Polls from the test side (Playwright runs an async predicate once). */
async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function openSearch(page: Page): Promise<void> {
  await page.locator("[data-search-open]").waitFor(WAIT);
  await page.keyboard.press("Control+Shift+F");
  await page.locator("#search-query").waitFor(WAIT);
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("search-query");
}

/** Types a query and waits for the summary; returns the result texts. */
async function search(page: Page, query: string, want: (texts: string[]) => boolean): Promise<string[]> {
  return until(`results for ${query}`, async () => {
    await page.fill("#search-query", query);
    await page.press("#search-query", "Enter");
    await page.waitForTimeout(300);
    const texts = await page.$$eval(".search-result__text", (els) => els.map((e) => e.textContent ?? ""));
    return want(texts) ? texts : null;
  });
}

describe.skipIf(!browser)("encrypted search in the browser", () => {
  let m: TwoMembers;
  let alice: Device;
  let page: Page;
  let privateId = "";
  const call = () => apiCaller(ctx);

  test("a word received before a reload is found; the result opens the message in context", async () => {
    m = await aliceAndBobInCommunity(ctx, call(), "Search");
    const general = m.group.channels[0]!.id;
    // Bob's browser first: its device must exist before Alice's sender key goes out.
    const bob = await openSignedIn(browser!, ctx, base, m.bob, { track: opened });
    page = bob.page;
    await page.goto(`${base}${m.channelPath}`);
    await page.waitForSelector("[data-chat-ready]", WAIT);
    alice = await openDevice(ctx, m.alice);
    for (let i = 0; i < 5; i++) await alice.send(general, `filler message ${i}`);
    await alice.send(general, `the ${WORD} crossed the road`);
    for (let i = 5; i < 8; i++) await alice.send(general, `filler message ${i}`);
    await seesDecrypted(page, WORD);
    // A private channel Bob is a member of, with a word only there.
    privateId = (await call()(m.aliceHeaders, "POST", `/api/groups/${m.group.id}/channels`, { name: "secret-room", is_private: true })).id;
    await call()(m.aliceHeaders, "POST", `/api/channels/${privateId}/members`, { user_id: m.bob.id });
    await alice.send(privateId, `the ${PRIVATE_WORD} is private`);

    await page.reload();
    await page.waitForSelector("[data-chat-ready]", WAIT);
    await page.waitForSelector("html[data-search-ready]", WAIT);
    await openSearch(page);
    const texts = await search(page, WORD.toUpperCase(), (t) => t.length === 1);
    expect(texts[0]).toContain(WORD);
    await expect(page.locator(".search-coverage").textContent()).resolves.toMatch(/Searched [\d,]+ of [\d,]+ messages in \d+ conversations/);
    await screenshot(page, "search-results");
    // The private channel is backfilled too.
    expect((await search(page, PRIVATE_WORD, (t) => t.length === 1))[0]).toContain(PRIVATE_WORD);
    // from:/in: narrow; a wrong filter says what it takes.
    expect(await search(page, `${WORD} from:ali in:#general`, (t) => t.length === 1)).toHaveLength(1);
    expect(await search(page, `${WORD} in:#secret-room`, () => true)).toHaveLength(0);
    await page.fill("#search-query", "before:yesterday");
    await page.press("#search-query", "Enter");
    await expect(page.locator(".search-error").textContent({ timeout: 10_000 })).resolves.toContain("YYYY-MM-DD");

    // Open the result with the keyboard: the channel scrolls to it, highlighted and focused.
    await search(page, WORD, (t) => t.length === 1);
    await page.press("#search-query", "ArrowDown");
    await page.keyboard.press("Enter");
    await until("the message in context", () => page.evaluate((w) => {
      const active = document.activeElement as HTMLElement | null;
      // Focused and in view (the highlight is a 2 s animation: a loaded box may poll after it).
      const box = active?.getBoundingClientRect();
      return !!active?.classList.contains("msg") && !!active.textContent?.includes(w) && !!box && box.bottom > 0 && box.top < innerHeight;
    }, WORD));
    await seesDecrypted(page, "filler message 4");
  });

  test("the requests made while searching carry neither the query nor anything derived from it", async () => {
    const requests: Request[] = [];
    const record = (r: Request) => void requests.push(r);
    page.on("request", record);
    const sockets: string[] = [];
    const client = await page.context().newCDPSession(page);
    await client.send("Network.enable");
    client.on("Network.webSocketFrameSent", (e) => sockets.push(String(e.response.payloadData)));
    await openSearch(page);
    const query = `${WORD} from:alice`;
    expect(await search(page, query, (t) => t.length === 1)).toHaveLength(1);
    expect((await search(page, "road crossed", (t) => t.length >= 1))[0]).toContain(WORD);
    page.off("request", record);
    await client.detach();
    const derived = [WORD, WORD.toUpperCase(), "crossed", encodeURIComponent(query), btoa(WORD), Buffer.from(WORD).toString("hex")];
    for (const r of requests) {
      const sent = `${r.url()} ${r.postData() ?? ""} ${JSON.stringify(await r.allHeaders())}`;
      for (const d of derived) expect([r.url(), sent.includes(d)]).toEqual([r.url(), false]);
      // Only what the backfill reads (history pages, the channel list) may go out meanwhile.
      expect([r.method(), r.url()]).toEqual([r.method() === "GET" ? "GET" : "only GET", expect.stringMatching(/\/api\/(channels\/unread|channels\/[0-9a-f-]{36}(\/messages\?after_seq=\d+&limit=\d+)?|dms)$|\/api\/channels\/unread$/)]);
    }
    for (const frame of sockets) for (const d of derived) expect(frame.includes(d)).toBe(false);
  });

  test("a dump of the browser's IndexedDB holds no plaintext marker", async () => {
    const dump = await page.evaluate(async () => {
      const out: string[] = [];
      const text = (v: unknown): string => {
        if (v instanceof ArrayBuffer) return String.fromCharCode(...new Uint8Array(v));
        if (ArrayBuffer.isView(v)) return String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${k}:${text(x)}`).join(",");
        return String(v);
      };
      for (const info of await indexedDB.databases()) {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const r = indexedDB.open(info.name!);
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        for (const store of db.objectStoreNames) {
          const [keys, values] = await Promise.all(
            ["getAllKeys", "getAll"].map((op) => new Promise<unknown[]>((resolve) => {
              const r = (db.transaction(store).objectStore(store) as any)[op]();
              r.onsuccess = () => resolve(r.result);
            })),
          );
          out.push(`${info.name}/${store}: ${keys!.map(text).join("|")} ${values!.map(text).join("|")}`);
        }
        db.close();
      }
      return out.join("\n");
    });
    expect(dump).toContain("hearth-search-");
    expect(dump.length).toBeGreaterThan(1000);
    for (const marker of MARKERS) {
      expect(dump.toLowerCase().includes(marker.toLowerCase())).toBe(false);
      expect(dump.includes(btoa(marker))).toBe(false);
    }
  });

  test("after removal from a private channel its results disappear", async () => {
    await page.goto(`${base}${m.channelPath}`);
    await page.waitForSelector("[data-chat-ready]", WAIT);
    await openSearch(page);
    expect(await search(page, PRIVATE_WORD, (t) => t.length === 1)).toHaveLength(1);
    await page.keyboard.press("Escape");
    await call()(m.aliceHeaders, "DELETE", `/api/channels/${privateId}/members/${m.bob.id}`);
    // The next pass of the backfill (a page load) finds the channel gone and drops its entries.
    await page.reload();
    await page.waitForSelector("[data-chat-ready]", WAIT);
    await openSearch(page);
    expect(await search(page, PRIVATE_WORD, (t) => t.length === 0)).toHaveLength(0);
    expect(await search(page, WORD, (t) => t.length === 1)).toHaveLength(1);
  });

  test("the panel at 360 px: keyboard reachable, no horizontal overflow", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await openSearch(page);
    await search(page, WORD, (t) => t.length === 1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "search-360");
    expect(await seriousAxeViolations(page, ".side-panel--search")).toEqual([]);
    await page.keyboard.press("Escape");
    await expect(page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.searchOpen !== undefined)).resolves.toBe(true);
  });
});

