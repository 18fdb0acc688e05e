// A device revoked elsewhere (docs/messages.md "Sending"): Alice's page learns it live and on the
// next send (400 UNKNOWN_DEVICE), shows "signed out of encryption" with a button where she writes,
// does not resend on its own, and the button sets the device up again as a new device through
// the key service, after which her messages reach Bob decrypted.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted as seesDecryptedOn } from "../helpers/chat-e2e.ts";
import type { TestUser } from "../helpers/users.ts";

setDefaultTimeout(90_000);

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

async function openAs(user: TestUser, path: string): Promise<Session> {
  const { page, problems } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport: { width: 360, height: 740 } });
  expect((await page.goto(`${base}${path}`, { waitUntil: "load" }))?.status()).toBe(200);
  await page.waitForSelector("[data-chat-ready]", WAIT);
  return { page, problems };
}

async function type(s: Session, text: string): Promise<void> {
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await s.page.locator("#composer-input").fill(text);
  await s.page.locator("#composer-input").press("Enter");
}

const rowOf = (s: Session, text: string) => s.page.locator(".msg", { hasText: text });

const seesDecrypted = (s: Session, text: string) => seesDecryptedOn(s.page, text, WAIT);

describe.skipIf(!browser)("a device revoked elsewhere", () => {
  test("banner where the user writes, no automatic resend, set up again as a new device", async () => {
    const call = apiCaller(ctx);
    const { alice, bob, aliceHeaders, channelPath: path } = await aliceAndBobInCommunity(ctx, call, "Revoked crew");
    const aliceS = await openAs(alice, path);
    const bobS = await openAs(bob, path);
    await type(aliceS, "before the revoke");
    await seesDecrypted(bobS, "before the revoke");

    // Alice removes this browser's device from elsewhere (another device, the settings).
    const before = (await call(aliceHeaders, "GET", `/api/keys/users/${alice.id}/devices`)).devices.map((d: { deviceId: string }) => d.deviceId);
    expect(before.length).toBe(1);
    await call(aliceHeaders, "DELETE", `/api/keys/devices/${before[0]}`);
    const banner = aliceS.page.locator("[data-device-revoked]");
    await banner.waitFor(WAIT); // live: keys:changed names this device
    expect(await banner.textContent()).toContain("This device was signed out of encryption");
    // The banner sits in the composer area, where the user acts.
    expect(await aliceS.page.locator(".pane-composer [data-device-revoked]").count()).toBe(1);

    // A send now is refused with UNKNOWN_DEVICE: failed, with the server's words, never resent automatically.
    await type(aliceS, "after the revoke");
    const failed = rowOf(aliceS, "after the revoke");
    await aliceS.page.waitForFunction(() => document.querySelector(".msg.msg--failed") !== null, undefined, WAIT);
    const failedText = (await failed.textContent()) ?? "";
    expect(failedText).toContain("not registered for your account");
    expect(failedText).not.toContain("Retrying automatically");
    expect(await aliceS.page.locator("[data-device-revoked]").count()).toBe(1); // one banner, however many refusals
    await screenshot(aliceS.page, "chat-device-revoked-360");

    // The button re-runs device bootstrap as a new device and reloads; sending works again.
    await Promise.all([aliceS.page.waitForEvent("load", WAIT), banner.getByRole("button", { name: "Set up encryption again" }).click()]);
    await aliceS.page.waitForSelector("[data-chat-ready]", WAIT);
    const after = (await call(aliceHeaders, "GET", `/api/keys/users/${alice.id}/devices`)).devices.map((d: { deviceId: string }) => d.deviceId);
    expect(after.length).toBe(1);
    expect(after[0]).not.toBe(before[0]); // a revoked identity is never registered again
    expect(await aliceS.page.locator("[data-device-revoked]").count()).toBe(0);
    await type(aliceS, "set up again");
    await seesDecrypted(bobS, "set up again");
    expect(bobS.problems.all()).toEqual([]);
  });
});
