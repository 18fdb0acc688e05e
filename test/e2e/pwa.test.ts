// Installable app and push, in real Chromium (issue 13 §6, §7): the service worker registers
// under the strict CSP with no violation and controls the origin root; the manifest has what
// installability needs (name, start URL, standalone, 192 and 512 px PNG icons that are what they
// say) and Chromium's own installability check (DevTools Page.getInstallabilityErrors) finds
// nothing; an offline reload shows the offline shell and the cache holds static assets and the
// offline page only; a push delivered through the DevTools protocol shows a notification with
// who/where and no text. Settings › Notifications renders cleanly (axe, 360 px) and saves.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, collectProblems, launchBrowser, screenshot } from "../helpers/browser.ts";
import { openSignedIn } from "../helpers/chat-e2e.ts";
import { createUser } from "../helpers/users.ts";
import { vapidEnv } from "../features/notifications/helpers.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let ctx: TestContext;
let base = "";
const contexts: BrowserContext[] = [];
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: vapidEnv() });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  for (const f of cleanups) f();
  await ctx?.close();
});

async function axeSerious(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}`));
  });
}

/** Waits until the page is controlled by the active service worker; returns its script URL and scope. */
async function controlled(page: Page): Promise<{ script: string; scope: string }> {
  const info = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return { script: reg.active?.scriptURL ?? "", scope: reg.scope };
  });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
  return info;
}

function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = Buffer.from(bytes);
  expect(view.subarray(1, 4).toString("ascii")).toBe("PNG");
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}

describe.skipIf(!browser)("installable app", () => {
  test("the service worker registers at the root scope under the CSP, with no violation or console error", async () => {
    const context = await browser!.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems = await collectProblems(page);
    await page.goto(`${base}/login`, { waitUntil: "load" });
    const sw = await controlled(page);
    expect(sw).toEqual({ script: `${base}/sw.js`, scope: `${base}/` });
    const res = await page.request.get(`${base}/sw.js`);
    expect(res.headers()["content-security-policy"]).toContain("script-src 'self'");
    expect(res.headers()["content-type"]).toContain("text/javascript");
    expect(problems.all()).toEqual([]);
  });

  test("the manifest is complete, its icons are real PNGs of the stated sizes, and Chromium reports no installability error", async () => {
    // A persistent profile: Chromium does not offer installation in incognito, which every
    // newContext() is, so its check would answer "in-incognito" and nothing else.
    const profile = mkdtempSync(join(tmpdir(), "hearth-pwa-"));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    contexts.push(context);
    cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
    const page = context.pages()[0] ?? (await context.newPage());
    const problems = await collectProblems(page);
    await page.goto(`${base}/login`, { waitUntil: "load" });
    await controlled(page);
    expect(await page.locator('link[rel="manifest"]').getAttribute("href")).toBe("/manifest.webmanifest");
    const res = await page.request.get(`${base}/manifest.webmanifest`);
    expect(res.headers()["content-type"]).toContain("application/manifest+json");
    const manifest = (await res.json()) as { name: string; short_name: string; start_url: string; scope: string; display: string; icons: { src: string; sizes: string; type: string; purpose: string }[] };
    expect(manifest).toMatchObject({ name: "Hearth", short_name: "Hearth", start_url: "/", scope: "/", display: "standalone" });
    for (const size of ["192x192", "512x512"]) expect(manifest.icons.some((i) => i.sizes === size && i.type === "image/png" && i.purpose === "any")).toBe(true);
    expect(manifest.icons.some((i) => i.purpose === "maskable")).toBe(true);
    for (const icon of manifest.icons) {
      const png = await page.request.get(`${base}${icon.src}`);
      expect(png.status()).toBe(200);
      expect(png.headers()["content-type"]).toContain("image/png");
      const { width, height } = pngSize(await png.body());
      expect(`${width}x${height}`).toBe(icon.sizes);
    }
    // Chromium's own check (what the install prompt uses), through the DevTools protocol.
    const cdp = await context.newCDPSession(page);
    const parsed = (await cdp.send("Page.getAppManifest")) as { url: string; errors: { message: string; critical: number }[] };
    expect(parsed.url).toBe(`${base}/manifest.webmanifest`);
    expect(parsed.errors).toEqual([]);
    const installability = (await cdp.send("Page.getInstallabilityErrors")) as { installabilityErrors: { errorId: string }[] };
    expect(installability.installabilityErrors.map((e) => e.errorId)).toEqual([]);
    await screenshot(page, "pwa-login-controlled");
    expect(problems.all()).toEqual([]);
  });

  test("offline: a reload and a navigation show the offline shell; the cache holds only static assets and the offline page", async () => {
    const user = await createUser(ctx);
    const { context, page, problems } = await openSignedIn(browser!, ctx, base, user, { track: contexts, viewport: { width: 360, height: 740 } });
    await page.goto(`${base}/settings/account`, { waitUntil: "load" });
    await controlled(page);
    await context.setOffline(true);
    try {
      await page.reload({ waitUntil: "load" });
      await page.waitForSelector("h1#offline-h", { timeout: 30_000 });
      expect(await page.locator("h1#offline-h").textContent()).toBe("You are offline");
      // The frame is styled: the stylesheet came from the cache.
      expect(await page.evaluate(() => getComputedStyle(document.querySelector(".topbar")!).display)).not.toBe("inline");
      expect(page.url()).toBe(`${base}/settings/account`);
      await screenshot(page, "pwa-offline-360");
      await page.goto(`${base}/communities`, { waitUntil: "load" }).catch(() => null);
      await page.waitForSelector("h1#offline-h", { timeout: 30_000 });
    } finally {
      await context.setOffline(false);
    }
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      return urls;
    });
    expect(cached).toContain("/offline");
    expect(cached.filter((u) => u !== "/offline" && !/^\/public\/(build|vendor)\//.test(u))).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });

  test("a push delivered through the DevTools protocol shows who and where, no text", async () => {
    const context = await browser!.newContext();
    contexts.push(context);
    await context.grantPermissions(["notifications"], { origin: base });
    const page = await context.newPage();
    await page.goto(`${base}/login`, { waitUntil: "load" });
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const registrations = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: { registrationId: string; scopeURL: string }[] }) => resolve(e.registrations)));
    await cdp.send("ServiceWorker.enable");
    const registration = (await registrations).find((r) => r.scopeURL === `${base}/`)!;
    const channelId = crypto.randomUUID();
    const payload = { v: 1, type: "message", kind: "dm", channel_id: channelId, community_id: null, sender_id: crypto.randomUUID(), sender_name: "Alice", channel_name: null, community_name: null, mention: false, count: 3, url: `/dms/${channelId}` };
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: registration.registrationId, data: JSON.stringify(payload) });
    const read = () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown })));
    let shown = await read();
    for (let i = 0; i < 100 && shown.length === 0; i++) {
      await Bun.sleep(100);
      shown = await read();
    }
    expect(shown).toEqual([{ title: "Alice", body: "3 new messages from Alice", tag: channelId, data: { url: `/dms/${channelId}` } }]);
  });
});

describe.skipIf(!browser)("Settings › Notifications", () => {
  for (const viewport of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 360, height: 740 },
  ]) {
    test(`at ${viewport.width} px: renders with the push section, no CSP violation, no serious axe violation, saves`, async () => {
      const user = await createUser(ctx);
      const { page, problems } = await openSignedIn(browser!, ctx, base, user, { track: contexts, viewport });
      await page.goto(`${base}/settings/notifications`, { waitUntil: "load" });
      await page.waitForSelector("[data-push-settings]");
      // The push switch ran: it replaced the no-JavaScript text.
      await page.waitForFunction(() => !document.querySelector("[data-push-status]")?.textContent?.includes("need JavaScript"), undefined, { timeout: 30_000 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      expect(await axeSerious(page)).toEqual([]);
      await screenshot(page, `notification-settings-${viewport.name}`);
      await page.selectOption("#notify-level", "all");
      await page.check("#notify-dnd");
      await page.selectOption("#notify-mute", "8h");
      await Promise.all([page.waitForURL(/saved=saved/), page.click('[data-testid="notify-defaults"] button[type="submit"]')]);
      expect(await page.locator(".toast").first().textContent()).toContain("Notification settings saved.");
      expect(await page.locator("#notify-level").inputValue()).toBe("all");
      expect(await page.locator("#notify-dnd").isChecked()).toBe(true);
      expect(await page.locator("#notify-mute").inputValue()).toBe("keep");
      const row = await ctx.database.db.selectFrom("notification_preferences").selectAll().where("user_id", "=", user.id).executeTakeFirstOrThrow();
      expect([row.level, row.dnd, new Date(row.muted_until!).getTime() > Date.now() + 7 * 3_600_000]).toEqual(["all", true, true]);
      expect(problems.all()).toEqual([]);
    });
  }
});
