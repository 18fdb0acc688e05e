// Announcements in real Chromium (issue 15 §1, docs/admin.md "Announcements"): one user on two
// devices (two browser contexts, two sessions), one at 360 px. Published by an admin while both
// pages are open: the banner appears on both without a reload (the live socket's
// announcement:changed, the lazy chunk re-fetching the banner). Dismissed by keyboard on the
// phone: gone there, and gone live on the laptop (announcement:dismissed). No CSP violation, no
// serious axe violation, no sideways scrolling. launchBrowser prints "[skip]" without Chromium.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { openSignedIn } from "../helpers/chat-e2e.ts";
import { createUser } from "../helpers/users.ts";
import { client, expectOk } from "../features/communities/helpers.ts";

const browser: Browser | null = await launchBrowser();
let ctx: TestContext;
let base = "";
const track: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 180_000);

afterAll(async () => {
  for (const c of track) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

/** The page's socket said hello (live.js is connected), so a frame published now reaches it. */
async function waitLive(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.liveSrc !== undefined && performance.getEntriesByType("resource").some((e) => e.name.includes("/build/live-")), undefined, { timeout: 30_000 });
}

describe.skipIf(!browser)("announcements in the browser", () => {
  test("published live to both devices; dismissed by keyboard at 360 px; gone live on the other device", async () => {
    const admin = await client(ctx, { isAdmin: true, adminPowers: ["server_settings"] });
    const user = await createUser(ctx, { displayName: "Dana Devices" });
    const laptop = await openSignedIn(browser!, ctx, base, user, { track, viewport: { width: 1280, height: 800 } });
    const phone = await openSignedIn(browser!, ctx, base, user, { track, viewport: { width: 360, height: 740 } });
    await laptop.page.goto(`${base}/settings/account`, { waitUntil: "load" });
    await phone.page.goto(`${base}/`, { waitUntil: "load" });
    await waitLive(laptop.page);
    await waitLive(phone.page);
    // Sockets open: wait until the hub holds both before publishing.
    const deadline = Date.now() + 30_000;
    while ((ctx.hub.localSocketCount ?? 0) < 2 && Date.now() < deadline) await Bun.sleep(50);
    expect(ctx.hub.localSocketCount).toBeGreaterThanOrEqual(2);

    const ann = await expectOk(admin.call("POST", "/api/admin/announcements", { body: "Planned **maintenance** tonight: <b>not bold</b> — see [status](https://example.org/status)" }), 201);
    for (const page of [laptop.page, phone.page]) {
      await page.locator(`[data-announcement-id="${ann.id}"]`).waitFor({ timeout: 30_000 });
      expect(await page.locator("#announcement-banner strong").textContent()).toBe("maintenance");
      expect(await page.locator("#announcement-banner").textContent()).toContain("<b>not bold</b>");
    }
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await screenshot(phone.page, "announcement-banner-phone");

    // Keyboard on the phone: Tab from the top reaches the banner's link, then Dismiss.
    const dismiss = phone.page.locator(`[data-announcement-id="${ann.id}"] button`);
    await phone.page.keyboard.press("Tab");
    for (let i = 0; i < 15 && !(await dismiss.evaluate((b) => b === document.activeElement)); i++) await phone.page.keyboard.press("Tab");
    expect(await dismiss.evaluate((b) => b === document.activeElement)).toBe(true);
    await phone.page.keyboard.press("Enter");
    await phone.page.locator(`[data-announcement-id="${ann.id}"]`).waitFor({ state: "detached", timeout: 30_000 });
    await laptop.page.locator(`[data-announcement-id="${ann.id}"]`).waitFor({ state: "detached", timeout: 30_000 });
    // Stored: a reload on either device does not bring it back.
    await laptop.page.reload({ waitUntil: "load" });
    expect(await laptop.page.locator(`[data-announcement-id="${ann.id}"]`).count()).toBe(0);
    expect(laptop.problems.all()).toEqual([]);
    expect(phone.problems.all()).toEqual([]);
  });
});
