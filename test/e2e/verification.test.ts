// Verification people can use (issue 11 §5; docs/crypto.md "Verification"), in Chromium:
//  - Settings › Security lists the account's encryption devices next to the sessions, marks this
//    browser, and removes a device through DELETE /api/keys/devices/{id} (keyboard only, 360 px).
//  - The Verify panel of a DM shows the contact's devices with the 60-digit safety number and its
//    QR code; the numbers are identical in Alice's and Bob's browsers; "Mark as verified" puts a
//    badge on the person.
//  - When a verified contact sets a device up again, the DM says so and the next send stops at a
//    warning that must be acknowledged.
//  - A replaced server identity produces the warning on the next load, and sending is paused.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../helpers/chat-e2e.ts";
import type { TestUser } from "../helpers/users.ts";
import { newDevice, registrationBody } from "../features/keys/helpers.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
// Wide: a loaded machine is slow, not wrong (a wait only costs its length when something is broken).
const WAIT = { timeout: 30_000 };
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

type Session = { page: Page; problems: PageProblems };

async function openAs(user: TestUser, path: string, width = 360): Promise<Session> {
  const { page, problems } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport: { width, height: 780 } });
  expect((await page.goto(`${base}${path}`, { waitUntil: "load" }))?.status()).toBe(200);
  await page.waitForSelector("[data-chat-ready]", WAIT);
  return { page, problems };
}

const deviceIds = async (call: ReturnType<typeof apiCaller>, headers: Record<string, string>, userId: string): Promise<string[]> =>
  (await call(headers, "GET", `/api/keys/users/${userId}/devices`)).devices.map((d: { deviceId: string }) => d.deviceId);

describe.skipIf(!browser)("your own encryption devices in settings", () => {
  test("listed next to the sessions, this browser marked, another removed with the keyboard", async () => {
    const call = apiCaller(ctx);
    const { alice, aliceHeaders, channelPath } = await aliceAndBobInCommunity(ctx, call, "Devices crew");
    const s = await openAs(alice, channelPath); // this browser's device
    const [browserDevice] = await deviceIds(call, aliceHeaders, alice.id);
    const tablet = newDevice(alice.id, "old-tablet");
    await call(aliceHeaders, "POST", "/api/keys/devices", registrationBody(tablet));

    expect((await s.page.goto(`${base}/settings/security`, { waitUntil: "load" }))?.status()).toBe(200);
    await s.page.waitForSelector("[data-e2ee-devices-ready]", WAIT);
    const rows = s.page.locator("#encryption-devices li[data-e2ee-device]");
    expect(await rows.count()).toBe(2);
    // Next to the sessions, and this browser's device is the one marked.
    expect(await s.page.locator("#sessions + #encryption-devices").count()).toBe(1);
    expect(await s.page.locator(`li[data-e2ee-device="${browserDevice}"]`).textContent()).toContain("This browser");
    expect(await s.page.locator('li[data-e2ee-device="old-tablet"]').textContent()).not.toContain("This browser");
    expect(await seriousAxeViolations(s.page)).toEqual([]);
    await screenshot(s.page, "settings-encryption-devices-360", true);

    // Keyboard only: the Remove… button, then the confirmation (focus moves to "Cancel").
    await s.page.locator('li[data-e2ee-device="old-tablet"] button', { hasText: "Remove…" }).focus();
    await s.page.keyboard.press("Enter");
    const confirm = s.page.locator('li[data-e2ee-device="old-tablet"] [data-confirm-remove]');
    await confirm.waitFor({ state: "visible", ...WAIT });
    expect(await s.page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await s.page.keyboard.press("Shift+Tab");
    expect(await s.page.evaluate(() => document.activeElement?.hasAttribute("data-confirm-remove"))).toBe(true);
    await s.page.keyboard.press("Enter");
    await s.page.waitForFunction(() => document.querySelectorAll("#encryption-devices li[data-e2ee-device]").length === 1, undefined, WAIT);
    expect(await s.page.locator("[data-e2ee-device-status]").textContent()).toContain("was removed");
    // Through the key service: the device is gone for everyone.
    expect(await deviceIds(call, aliceHeaders, alice.id)).toEqual([browserDevice!]);
    // Nothing overflows at 360 px.
    expect(await s.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(s.problems.all()).toEqual([]);
  });
});
