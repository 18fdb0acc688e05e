// Notifications in real Chromium (issue 13 §5, §6 acceptance; issue 14 §6):
//  - desktop notifications while Hearth is open but not looked at: the permission is asked only
//    from the button of Settings › Notifications; with two unfocused tabs Alice's DM shows one
//    notification (who and where, no text); with a focused tab it shows none; a click opens the
//    conversation in a tab;
//  - a push delivered through the DevTools protocol (a message, and a DM call's ring) shows a
//    notification whose click opens the conversation;
//  - a settings change on one device updates the settings form of the user's other open tab
//    without a reload.
// Focus: Playwright makes every page believe it has the focus; the DevTools protocol's
// Emulation.setFocusEmulationEnabled(false) gives a page its real, unfocused state (the service
// worker's WindowClient.focused follows).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page, Worker } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, type TwoMembers } from "../helpers/chat-e2e.ts";
import { registerTestDevice } from "../features/messages/helpers.ts";
import { markedSend, vapidEnv } from "../features/notifications/helpers.ts";
import { presenceOf } from "../../src/features/presence/index.ts";
import { pushSettled } from "../../src/features/notifications/index.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: desktop notification tests need Chromium (CHROMIUM_PATH)");

let ctx: TestContext;
let base = "";
const contexts: BrowserContext[] = [];
const call = () => apiCaller(ctx);

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { ...vapidEnv(), COMMUNITY_CREATION_MODE: "anyone" } });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  if (ctx) await pushSettled(ctx.deps);
  await ctx?.close();
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: last ${JSON.stringify(v)}`);
    await Bun.sleep(100);
  }
}

async function controlled(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
}

type Shown = { title: string; body: string; tag: string; data: { url?: string; message_id?: string } };
const notifications = (page: Page): Promise<Shown[]> =>
  page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as { url?: string } })));

/** Takes the page's emulated focus away: it reports its real state, unfocused behind `elsewhere` (another site's page brought to the front). */
async function unfocus(page: Page, context: BrowserContext): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: false });
  // Polling by timer: an unfocused page may get no animation frames.
  await page.waitForFunction(() => !document.hasFocus(), undefined, { polling: 100, timeout: 30_000 });
}

/** A page of no interest in front: the user is looking at something else. */
async function lookElsewhere(context: BrowserContext): Promise<Page> {
  const elsewhere = await context.newPage();
  await elsewhere.goto("about:blank");
  await elsewhere.bringToFront();
  return elsewhere;
}

/** Waits until the user has exactly n open sockets (the tabs of earlier tests closed). */
async function socketsOf(userId: string, n: number): Promise<void> {
  await until(async () => (await presenceOf(ctx.deps)!.store.counts([userId])).get(userId) ?? 0, (c) => c === n, `${n} sockets of ${userId}`);
}

/** Resolves when the page's live socket receives a notify:message frame (attach before the page opens its socket). */
function notifyFrameOn(page: Page): Promise<void> {
  return new Promise((resolve) => page.on("websocket", (ws) => ws.on("framereceived", ({ payload }) => String(payload).includes('"notify:message"') && resolve())));
}

/** The page has handed what it received to the service worker (its handler is a few tasks long). */
const handedOver = (page: Page) => page.evaluate(() => navigator.serviceWorker.ready.then(() => new Promise((r) => setTimeout(r, 0))));

/** Clicks a shown notification the way the browser would: a notificationclick in the service worker. */
async function clickNotification(worker: Worker, tag: string): Promise<void> {
  await worker.evaluate(async (t) => {
    const scope = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean };
    const [n] = await scope.registration.getNotifications({ tag: t });
    if (!n) throw new Error(`no notification tagged ${t}`);
    const NotificationEventCtor = (self as unknown as { NotificationEvent: new (type: string, init: { notification: Notification }) => Event }).NotificationEvent;
    // Synthetic: waitUntil refuses untrusted events, after the handler has started its work.
    try {
      scope.dispatchEvent(new NotificationEventCtor("notificationclick", { notification: n }));
    } catch {
      // the listener's waitUntil throws on an untrusted event
    }
  }, tag);
}

function workerOf(context: BrowserContext): Promise<Worker> {
  return until(async () => context.serviceWorkers().find((w) => w.url() === `${base}/sw.js`) ?? null, (w) => w !== null, "service worker").then((w) => w!);
}

async function sendAs(headers: Record<string, string>, channelId: string, scheme: "pw" | "sk", extra: Record<string, unknown> = {}): Promise<string> {
  const sent = await call()(headers, "POST", `/api/channels/${channelId}/messages`, markedSend(scheme, extra));
  return (sent.id ?? sent.message?.id) as string;
}

describe.skipIf(!browser)("desktop notifications while a tab is open", () => {
  let m: TwoMembers;
  let dmId = "";

  beforeAll(async () => {
    m = await aliceAndBobInCommunity(ctx, call(), "Notify team");
    await registerTestDevice(ctx, m.alice.id);
    dmId = (await call()(m.aliceHeaders, "POST", "/api/dms", { user_id: m.bob.id })).channel_id;
  });

  test("asked from the settings button only; two unfocused tabs show one notification for Alice's DM, without text; a click opens the DM in a tab", async () => {
    const { context, page, problems } = await openSignedIn(browser!, ctx, base, m.bob, { track: contexts });
    const firstGot = notifyFrameOn(page);
    await page.goto(`${base}/settings/notifications`, { waitUntil: "load" });
    await controlled(page);
    const status = page.locator("[data-desktop-status]");
    await until(() => status.textContent(), (t) => t?.startsWith("Off in this browser") ?? false, "desktop status");
    // Nothing asked on load: the permission is still the browser's default.
    expect(await page.evaluate(() => Notification.permission)).toBe("default");
    const enable = page.getByRole("button", { name: "Enable desktop notifications" });
    expect(await enable.isVisible()).toBe(true);
    await context.grantPermissions(["notifications"], { origin: base });
    await enable.click();
    await until(() => status.textContent(), (t) => t?.startsWith("On in this browser") ?? false, "desktop status after enabling");
    expect(await enable.isVisible()).toBe(false);
    await screenshot(page, "notification-settings-desktop-on");

    const second = await context.newPage();
    const secondGot = notifyFrameOn(second);
    await second.goto(`${base}/communities`, { waitUntil: "load" });
    await controlled(second);
    await socketsOf(m.bob.id, 2);
    await lookElsewhere(context);
    await unfocus(page, context);
    await unfocus(second, context);

    const messageId = await sendAs(m.aliceHeaders, dmId, "pw");
    const shown = await until(() => notifications(page), (n) => n.length > 0, "a notification");
    expect(shown).toEqual([{ title: "Alice", body: "Alice sent you a message", tag: dmId, data: { url: `/dms/${dmId}`, message_id: messageId } }]);
    // Both tabs got the frame and handed it over; still one.
    await Promise.all([firstGot, secondGot]);
    await Promise.all([handedOver(page), handedOver(second)]);
    expect(await notifications(second)).toEqual(shown);

    const worker = await workerOf(context);
    await clickNotification(worker, dmId);
    await until(async () => [page.url(), second.url()], (urls) => urls.includes(`${base}/dms/${dmId}`), "a tab on the DM");
    expect(await notifications(page).catch(() => notifications(second))).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
    await context.close();
  });

  test("no notification while one of the user's tabs has the focus", async () => {
    const { context, page } = await openSignedIn(browser!, ctx, base, m.bob, { track: contexts });
    await context.grantPermissions(["notifications"], { origin: base });
    await page.goto(`${base}/communities`, { waitUntil: "load" });
    await controlled(page);
    const background = await context.newPage();
    await background.goto(`${base}/settings/account`, { waitUntil: "load" });
    await controlled(background);
    await socketsOf(m.bob.id, 2);
    const received = notifyFrameOn(background);
    // Reload the background tab so its socket is watched from the start; the other is in front.
    await background.reload({ waitUntil: "load" });
    await page.bringToFront();
    await unfocus(background, context);
    expect(await page.evaluate(() => document.hasFocus())).toBe(true);
    await socketsOf(m.bob.id, 2);
    await sendAs(m.aliceHeaders, dmId, "pw");
    await received;
    // The background tab has handed the frame over; the push below is shown after it, in order:
    // by then the worker has decided about the DM.
    await handedOver(background);
    const cdp = await context.newCDPSession(page);
    const registrations = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: { registrationId: string; scopeURL: string }[] }) => resolve(e.registrations)));
    await cdp.send("ServiceWorker.enable");
    const registration = (await registrations).find((r) => r.scopeURL === `${base}/`)!;
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: registration.registrationId, data: JSON.stringify({ v: 1, type: "message", kind: "channel", channel_id: "sentinel", sender_name: "Carol", channel_name: "general", count: 1, url: "/" }) });
    const shown = await until(() => notifications(page), (n) => n.some((x) => x.tag === "sentinel"), "the sentinel push");
    expect(shown.map((n) => n.tag)).toEqual(["sentinel"]);
  });
});

describe.skipIf(!browser)("push notifications open the conversation", () => {
  test("a message push and a call push delivered through the DevTools protocol show who/where, and a click opens the DM", async () => {
    const m = await aliceAndBobInCommunity(ctx, call(), "Push team");
    const dmId = (await call()(m.aliceHeaders, "POST", "/api/dms", { user_id: m.bob.id })).channel_id as string;
    const { context, page } = await openSignedIn(browser!, ctx, base, m.bob, { track: contexts });
    await context.grantPermissions(["notifications"], { origin: base });
    await page.goto(`${base}/communities`, { waitUntil: "load" });
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const registrations = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: { registrationId: string; scopeURL: string }[] }) => resolve(e.registrations)));
    await cdp.send("ServiceWorker.enable");
    const registration = (await registrations).find((r) => r.scopeURL === `${base}/`)!;
    const worker = await workerOf(context);
    const deliver = (payload: object) => cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: registration.registrationId, data: JSON.stringify(payload) });

    await deliver({ v: 1, type: "message", kind: "dm", channel_id: dmId, community_id: null, sender_id: m.alice.id, sender_name: "Alice", channel_name: null, community_name: null, mention: false, count: 2, url: `/dms/${dmId}` });
    expect(await until(() => notifications(page), (n) => n.length > 0, "the message push")).toEqual([{ title: "Alice", body: "2 new messages from Alice", tag: dmId, data: { url: `/dms/${dmId}` } }]);
    await clickNotification(worker, dmId);
    await page.waitForURL(`${base}/dms/${dmId}`, { timeout: 30_000 });
    expect(await page.locator("h1, [data-testid='chat-title']").first().textContent()).toContain("Alice");

    await page.goto(`${base}/communities`, { waitUntil: "load" });
    await deliver({ v: 1, type: "call", kind: "dm", channel_id: dmId, sender_id: m.alice.id, sender_name: "Alice", channel_name: null, expires_at: new Date(Date.now() + 30_000).toISOString(), url: `/dms/${dmId}` });
    expect(await until(() => notifications(page), (n) => n.length > 0, "the call push")).toEqual([{ title: "Incoming call from Alice", body: "Open the conversation to answer.", tag: `call:${dmId}`, data: { url: `/dms/${dmId}` } }]);
    await clickNotification(worker, `call:${dmId}`);
    await page.waitForURL(`${base}/dms/${dmId}`, { timeout: 30_000 });
  });
});

describe.skipIf(!browser)("notification settings, live on every open tab", () => {
  test("a change saved on one device updates the form of another device's open tab, without a reload", async () => {
    const m = await aliceAndBobInCommunity(ctx, call(), "Sync team");
    const laptop = await openSignedIn(browser!, ctx, base, m.bob, { track: contexts });
    const phone = await openSignedIn(browser!, ctx, base, m.bob, { track: contexts, viewport: { width: 360, height: 740 } });
    await laptop.page.goto(`${base}/settings/notifications`, { waitUntil: "load" });
    await phone.page.goto(`${base}/settings/notifications`, { waitUntil: "load" });
    await socketsOf(m.bob.id, 2);
    await laptop.page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    expect(await laptop.page.locator("#notify-level").inputValue()).toBe("mentions");
    await phone.page.selectOption("#notify-level", "all");
    await phone.page.check("#notify-dnd");
    await Promise.all([phone.page.waitForURL(/saved=saved/), phone.page.click('[data-testid="notify-defaults"] button[type="submit"]')]);
    await laptop.page.waitForFunction(() => (document.querySelector<HTMLSelectElement>("#notify-level")?.value ?? "") === "all", undefined, { timeout: 30_000 });
    expect(await laptop.page.locator("#notify-dnd").isChecked()).toBe(true);
    // The community's own form too (a change over the API this time).
    await call()(m.bobHeaders, "PUT", `/api/communities/${m.communityId}/notifications`, { level: "none" });
    await laptop.page.waitForFunction((id) => (document.querySelector<HTMLSelectElement>(`#notify-c-${id}-level`)?.value ?? "") === "none", m.communityId, { timeout: 30_000 });
    expect(await laptop.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(laptop.problems.all()).toEqual([]);
    expect(phone.problems.all()).toEqual([]);
  });
});
