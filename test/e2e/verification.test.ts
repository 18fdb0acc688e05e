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
import { sql } from "kysely";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { keysKernelOf } from "../../src/features/keys/kernel.ts";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted } from "../helpers/chat-e2e.ts";
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

async function dmOf(call: ReturnType<typeof apiCaller>, headers: Record<string, string>, otherId: string): Promise<string> {
  return `/dms/${(await call(headers, "POST", "/api/dms", { user_id: otherId })).channel_id}`;
}

async function type(s: Session, text: string): Promise<void> {
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await s.page.locator("#composer-input").fill(text);
  await s.page.locator("#composer-input").press("Enter");
}

/** Opens the Verify panel from the DM header with the keyboard; returns the digits shown per device. */
async function verifyPanel(s: Session, name: string): Promise<Record<string, string>> {
  const trigger = s.page.locator(`button[data-verify-user]`, { hasText: `Verify ${name}` });
  await s.page.waitForFunction(() => document.querySelector<HTMLButtonElement>("button[data-verify-user]")?.disabled === false, undefined, WAIT);
  await trigger.focus();
  await s.page.keyboard.press("Enter");
  await s.page.waitForSelector("dialog[open] [data-safety-number]", WAIT);
  await s.page.waitForSelector("dialog[open] svg.safety-qr", WAIT);
  return s.page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>("dialog[open] [data-verify-device]")].map((li) => [li.dataset.verifyDevice!, li.querySelector<HTMLElement>("[data-safety-number]")!.dataset.safetyNumber!])));
}

describe.skipIf(!browser)("verifying a contact", () => {
  test("the same 60 digits in both browsers, a QR code, a badge; a new device of a verified contact stops the next send until acknowledged", async () => {
    const call = apiCaller(ctx);
    const { alice, bob, aliceHeaders, bobHeaders } = await aliceAndBobInCommunity(ctx, call, "Verify crew");
    const path = await dmOf(call, aliceHeaders, bob.id);
    const a = await openAs(alice, path, 360);
    const b = await openAs(bob, path, 1000);
    const [aliceDevice] = await deviceIds(call, aliceHeaders, alice.id);
    const [bobDevice] = await deviceIds(call, bobHeaders, bob.id);
    // Bob also has a phone.
    await call(bobHeaders, "POST", "/api/keys/devices", registrationBody(newDevice(bob.id, "bob-phone")));

    const seenByAlice = await verifyPanel(a, "Bob");
    const seenByBob = await verifyPanel(b, "Alice");
    // A number per device pair, computed in each browser: (Alice's device, Bob's browser) is the same on both sides.
    expect(Object.keys(seenByAlice).sort()).toEqual([bobDevice!, "bob-phone"].sort());
    expect(Object.keys(seenByBob)).toEqual([aliceDevice!]);
    expect(seenByAlice["bob-phone"]).not.toBe(seenByAlice[bobDevice!]);
    expect(seenByAlice[bobDevice!]).toMatch(/^\d{60}$/);
    expect(seenByAlice[bobDevice!]).toBe(seenByBob[aliceDevice!]!);
    // Grouped for reading aloud: twelve groups of five.
    expect(await a.page.locator(`dialog[open] [data-verify-device="${bobDevice}"] .safety-number__group`).count()).toBe(12);
    expect(await seriousAxeViolations(a.page, "dialog[open]")).toEqual([]);
    await screenshot(a.page, "verify-panel-360");
    expect(await a.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // Mark as verified: a badge on Bob in the DM header.
    await a.page.locator("dialog[open] [data-mark-verified]").click();
    await a.page.waitForSelector('[data-trust-badge]:not([hidden])[data-trust-state="verified"]', WAIT);
    expect(await a.page.locator("[data-trust-badge]").textContent()).toBe("Verified");
    await a.page.keyboard.press("Escape");
    await a.page.waitForSelector("dialog[open]", { state: "detached", ...WAIT });
    await b.page.keyboard.press("Escape");

    // Nothing changed: sending goes straight through.
    await type(a, "before any change");
    await seesDecrypted(b.page, "before any change", WAIT);

    // Bob re-registers his phone (revoked, then set up again: new keys, new id): Alice's DM says so, live.
    await call(bobHeaders, "DELETE", "/api/keys/devices/bob-phone");
    await call(bobHeaders, "POST", "/api/keys/devices", registrationBody(newDevice(bob.id, "bob-phone-2")));
    // (The phone's first registration, before Bob was verified, had its own plain line.)
    const note = a.page.locator("[data-device-notes] .device-note", { hasText: "you will be asked before your next message is sent" });
    await note.waitFor(WAIT);
    expect(await note.textContent()).toContain("Bob added a new device.");
    await a.page.locator("[data-device-notes] .device-note", { hasText: "Bob removed a device." }).waitFor(WAIT);

    // The next send stops at the warning; "Don't send" keeps the draft and sends nothing.
    await type(a, "after the change");
    const warning = a.page.locator("dialog[open][data-key-change]");
    await warning.waitFor(WAIT);
    expect(await warning.textContent()).toContain("Your message has not been sent");
    expect(await seriousAxeViolations(a.page, "dialog[open]")).toEqual([]);
    await screenshot(a.page, "verify-key-change-360");
    await warning.getByRole("button", { name: "Don't send" }).click();
    await a.page.waitForSelector("dialog[open]", { state: "detached", ...WAIT });
    expect(await a.page.locator("#composer-input").inputValue()).toBe("after the change");
    expect(await a.page.locator(".msg", { hasText: "after the change" }).count()).toBe(0);

    // Acknowledged: sent, and Bob is no longer shown as verified.
    await a.page.locator("#composer-input").press("Enter");
    await warning.waitFor(WAIT);
    await warning.locator("[data-acknowledge-keys]").click();
    await seesDecrypted(b.page, "after the change", WAIT);
    await a.page.waitForSelector("[data-trust-badge][hidden]", { state: "attached", ...WAIT });
    // Acknowledged once: the following send does not ask again.
    await type(a, "and again");
    await seesDecrypted(b.page, "and again", WAIT);
    expect(await a.page.locator("dialog[open]").count()).toBe(0);
    expect(a.problems.all()).toEqual([]);
    expect(b.problems.all()).toEqual([]);
  });
});

describe.skipIf(!browser)("verifying from a channel's member list", () => {
  test("each other member's row has a Verify button; marking shows the badge on the row", async () => {
    const call = apiCaller(ctx);
    const { alice, bob, channelPath } = await aliceAndBobInCommunity(ctx, call, "Members crew");
    await openAs(bob, channelPath, 1200); // Bob's device exists
    const a = await openAs(alice, channelPath, 1200);
    const row = a.page.locator(`.member[data-presence-user="${bob.id}"]`);
    const verify = row.locator("button[data-verify-user]");
    await verify.waitFor(WAIT);
    expect(await a.page.locator(`.member[data-presence-user="${alice.id}"] button[data-verify-user]`).count()).toBe(0); // not yourself
    await verify.focus();
    await a.page.keyboard.press("Enter");
    await a.page.waitForSelector("dialog[open] [data-safety-number]", WAIT);
    expect(await a.page.locator("dialog[open] .dialog__title").textContent()).toBe("Verify Bob");
    await a.page.locator("dialog[open] [data-mark-verified]").click();
    await row.locator('.member__trust[data-trust-state="verified"]').waitFor(WAIT);
    expect(await row.locator(".member__trust").textContent()).toBe("Verified");
    await a.page.keyboard.press("Escape");
    expect(await seriousAxeViolations(a.page, ".members")).toEqual([]);
    await screenshot(a.page, "verify-member-list");
    expect(a.problems.all()).toEqual([]);
  });
});

describe.skipIf(!browser)("the server's identity", () => {
  test("replacing it in the database produces the warning on the next load, and sending pauses until accepted", async () => {
    const call = apiCaller(ctx);
    const { alice, channelPath } = await aliceAndBobInCommunity(ctx, call, "Pinned crew");
    const s = await openAs(alice, channelPath, 360);
    await s.page.waitForSelector('[data-server-identity="first-use"]', WAIT);
    await s.page.reload({ waitUntil: "load" });
    await s.page.waitForSelector('[data-server-identity="match"]', WAIT);
    expect(await s.page.locator("[data-server-identity-warning]").count()).toBe(0);

    // The operator's database gets another identity (a restore without its keys, or an impostor).
    await sql`delete from instance_settings where key = 'server_identity_key'`.execute(ctx.deps.database.db);
    keysKernelOf(ctx.deps).serverIdentity = undefined; // as after a restart
    const fresh = await call({}, "GET", "/api/keys/server-identity");

    await s.page.reload({ waitUntil: "load" });
    await s.page.waitForSelector("[data-chat-ready]", WAIT);
    const warning = s.page.locator("[data-server-identity-warning]");
    await warning.waitFor(WAIT);
    expect(await warning.textContent()).toContain("This server's identity has changed");
    expect(await warning.locator("[data-server-fingerprint]").textContent()).toBe(fresh.fingerprint);
    expect(await s.page.locator("#composer-input").isDisabled()).toBe(true);
    expect(await seriousAxeViolations(s.page, "[data-server-identity-warning]")).toEqual([]);
    await screenshot(s.page, "server-identity-warning-360");
    expect(await s.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // Accepting (after asking the admin) pins the new identity; the next load is quiet.
    await warning.locator("[data-accept-server-identity]").focus();
    await Promise.all([s.page.waitForEvent("load", WAIT), s.page.keyboard.press("Enter")]);
    await s.page.waitForSelector('[data-server-identity="match"]', WAIT);
    expect(await s.page.locator("[data-server-identity-warning]").count()).toBe(0);
    expect(s.problems.all()).toEqual([]);
  });
});
