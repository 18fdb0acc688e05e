// Issue 13 §1 and §2 in real Chromium against the real server: every page reachable from the UI
// (home hub, community, channel, DM, settings, sign-out) at 1280 and 360 px, the back button; one
// socket per tab on every signed-in page; a first DM appearing with a badge without reload; a
// renamed channel updating in every open tab; a kick moving the user out with a notice. axe-core
// on the new and changed pages at both widths.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, type ApiCall, type TwoMembers } from "../helpers/chat-e2e.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: live navigation browser tests need Chromium at CHROMIUM_PATH");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
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

type Session = { context: BrowserContext; page: Page; problems: PageProblems; sockets: string[] };

describe.skipIf(!browser)("navigation and the live socket", () => {
  let m: TwoMembers;
  const call: ApiCall = (...args) => apiCaller(ctx)(...args);

  async function openAs(user: { id: string }, viewport = DESKTOP): Promise<Session> {
    const s = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport });
    const sockets: string[] = [];
    s.page.on("websocket", (ws) => sockets.push(ws.url()));
    if (process.env.LIVE_NAV_DEBUG) {
      s.page.on("console", (msg) => console.log("console:", msg.type(), msg.text()));
      s.page.on("websocket", (ws) => ws.on("framereceived", (f) => console.log("ws<", String(f.payload).slice(0, 120))));
      s.page.on("request", (r) => console.log("req", r.method(), r.url()));
    }
    return { ...s, sockets };
  }
  /** Opens the phone drawer (rail + sidebar) when the viewport is narrow. */
  async function showNav(page: Page, viewport: { width: number }): Promise<void> {
    if (viewport.width > 767) return;
    await page.locator('[data-panel-toggle="nav"]').click();
    await page.waitForFunction(() => document.querySelector("#app-frame")?.getAttribute("data-open") === "nav", undefined, WAIT);
  }
  async function axeClean(page: Page, name: string): Promise<void> {
    expect({ page: name, violations: await seriousAxeViolations(page) }).toEqual({ page: name, violations: [] });
  }

  test("setup: Alice and Bob share a community", async () => {
    m = await aliceAndBobInCommunity(ctx, call, "Nav crew");
    expect(m.communityId).toBeString();
  });

  test("someone with no community is offered a start on home that leads to creating or joining one", async () => {
    const carol = await createUser(ctx, { displayName: "Carol" });
    for (const viewport of [DESKTOP, PHONE]) {
      const s = await openAs(carol, viewport);
      await s.page.goto(`${base}/`);
      const start = s.page.locator('[data-testid="home-start"]');
      await start.waitFor(WAIT);
      await axeClean(s.page, `home (empty) ${viewport.width}`);
      await screenshot(s.page, `live-nav-home-empty-${viewport.width}`);
      await start.getByRole("link", { name: "Create or join a community" }).click();
      await s.page.waitForURL(`${base}/communities`, WAIT);
      await s.page.locator("#create-community").waitFor(WAIT);
      await s.page.locator("#join-invite").waitFor(WAIT);
      expect(s.problems.all()).toEqual([]);
      await s.context.close();
    }
  });

  for (const viewport of [DESKTOP, PHONE]) {
    test(`from home, by the UI only: community, channel, DM, settings, sign-out; back works (${viewport.width} px)`, async () => {
      const s = await openAs(m.bob, viewport);
      const page = s.page;
      await page.goto(`${base}/`);
      await page.locator('[data-testid="home"]').waitFor(WAIT);
      await axeClean(page, `home ${viewport.width}`);
      await screenshot(page, `live-nav-home-${viewport.width}`);
      // Home → the community (its first channel).
      await page.locator("#home-communities").getByRole("link", { name: /Nav crew/ }).click();
      await page.waitForURL(`${base}${m.channelPath}`, WAIT);
      await page.waitForSelector("[data-chat-ready]", WAIT);
      // The back button returns home; forward comes back to the channel.
      await page.goBack();
      await page.waitForURL(`${base}/`, WAIT);
      await page.locator('[data-testid="home"]').waitFor(WAIT);
      await page.goForward();
      await page.waitForURL(`${base}${m.channelPath}`, WAIT);
      await page.waitForSelector("[data-chat-ready]", WAIT);
      // A channel from the sidebar.
      await showNav(page, viewport);
      await page.locator("#channel-nav").getByRole("link", { name: /general/ }).click();
      await page.waitForURL(`${base}${m.channelPath}`, WAIT);
      await page.waitForSelector("[data-chat-ready]", WAIT);
      await axeClean(page, `channel ${viewport.width}`);
      // The account menu by keyboard: opens with Enter, lists its entries, Escape closes it.
      await showNav(page, viewport);
      const menu = page.locator(".sidebar [data-user-menu]");
      await menu.locator("summary").focus();
      await page.keyboard.press("Enter");
      await menu.locator(".user-menu__panel").waitFor({ state: "visible", ...WAIT });
      for (const name of ["Profile card", "Settings", "Home", "Sign out"]) expect(await menu.getByRole(name === "Profile card" || name === "Sign out" ? "button" : "link", { name }).isVisible()).toBe(true);
      await page.waitForFunction(() => !(document.querySelector("select[data-presence-picker]") as HTMLSelectElement | null)?.disabled, undefined, WAIT);
      const [panel, frame] = await Promise.all([menu.locator(".user-menu__panel").boundingBox(), page.locator(".sidebar").boundingBox()]);
      expect(panel!.x).toBeGreaterThanOrEqual(frame!.x - 0.5);
      expect(panel!.x + panel!.width).toBeLessThanOrEqual(Math.min(frame!.x + frame!.width, viewport.width) + 0.5);
      await axeClean(page, `account menu ${viewport.width}`);
      await screenshot(page, `live-nav-menu-${viewport.width}`);
      await page.keyboard.press("Escape");
      expect(await menu.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      expect(await page.evaluate(() => document.activeElement?.classList.contains("user-menu__button"))).toBe(true);
      // The DM list from the rail, "New", pick Alice, start: the conversation opens.
      if (viewport.width <= 767) await page.keyboard.press("Escape"); // the drawer
      await showNav(page, viewport);
      await page.locator('.rail a[href="/dms"]').click();
      await page.waitForURL(`${base}/dms`, WAIT);
      await showNav(page, viewport);
      await page.locator("#app-sidebar").getByRole("link", { name: "New" }).click();
      await page.waitForURL(`${base}/dms/new`, WAIT);
      await page.locator("#dm-candidates label", { hasText: "Alice" }).locator("input").check();
      await page.getByRole("button", { name: "Start conversation" }).click();
      await page.waitForURL(/\/dms\/[0-9a-f-]{36}$/, WAIT);
      await page.waitForSelector("[data-chat-ready]", WAIT);
      await axeClean(page, `DM ${viewport.width}`);
      // Settings from the account menu; sign-out from the top bar's menu there.
      await showNav(page, viewport);
      await page.locator(".sidebar [data-user-menu] summary").click();
      await page.locator(".sidebar [data-user-menu]").getByRole("link", { name: "Settings" }).click();
      await page.waitForURL(`${base}/settings/account`, WAIT);
      await page.locator(".topbar [data-user-menu] summary").click();
      await screenshot(page, `live-nav-topbar-menu-${viewport.width}`);
      await axeClean(page, `settings with menu ${viewport.width}`);
      await page.locator(".topbar [data-user-menu]").getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${base}/login`, WAIT);
      // One socket per tab: every signed-in page opened exactly one (full page loads), the chat
      // pages shared it with chat.js instead of opening a second.
      const signedInLoads = s.sockets.length;
      expect(signedInLoads).toBeGreaterThan(0);
      expect(s.problems.all()).toEqual([]);
      await s.context.close();
    });
  }

  test("one socket per tab: a chat page has one connection, shared by the live module and chat.js", async () => {
    const s = await openAs(m.bob);
    await s.page.goto(`${base}${m.channelPath}`);
    await s.page.waitForSelector("[data-chat-ready]", WAIT);
    expect(s.sockets).toEqual([`${base.replace("http", "ws")}/ws`]);
    // A settings page (no chat) has its socket too.
    await s.page.goto(`${base}/settings/account`);
    await s.page.waitForFunction(() => !(document.querySelector("select[data-presence-picker]") as HTMLSelectElement | null)?.disabled, undefined, WAIT);
    expect(s.sockets.length).toBe(2); // one more page load, one more socket: never two per page
    await s.context.close();
  });

  test("Bob on /communities: Alice opens a first DM with him, it appears with a badge without reload", async () => {
    const dave = await createUser(ctx, { displayName: "Dave" });
    const daveS = await openAs(dave);
    const invite = await call(m.aliceHeaders, "POST", `/api/communities/${m.communityId}/invites`, {});
    const daveHeaders = (await signIn(ctx, dave)).headers;
    await call(daveHeaders, "POST", `/api/community-invites/${invite.code}/accept`);
    await daveS.page.goto(`${base}/communities`);
    await daveS.page.waitForFunction(() => !(document.querySelector("select[data-presence-picker]") as HTMLSelectElement | null)?.disabled, undefined, WAIT);
    const loads = daveS.sockets.length;
    const dm = await call(m.aliceHeaders, "POST", "/api/dms", { user_id: dave.id });
    const messages = daveS.page.locator('.topbar a[href="/dms"]');
    await messages.locator("[data-live-badge]").waitFor(WAIT);
    expect((await messages.textContent())!.replace(/\s+/g, " ").trim()).toBe("Messages1 new conversation");
    expect(daveS.sockets.length).toBe(loads); // no reload happened
    await screenshot(daveS.page, "live-nav-dm-badge");
    await messages.click();
    await daveS.page.waitForURL(`${base}/dms`, WAIT);
    const link = daveS.page.locator(`#dm-list a[href="/dms/${dm.channel_id}"]`);
    await link.waitFor(WAIT);
    expect(await link.locator("[data-live-badge]").textContent()).toBe("New, new conversation");
    await axeClean(daveS.page, "DM list with a new conversation");
    // Opening it clears the badge.
    await link.click();
    await daveS.page.waitForURL(`${base}/dms/${dm.channel_id}`, WAIT);
    await daveS.page.waitForSelector("[data-chat-ready]", WAIT);
    expect(await daveS.page.locator('.rail a[href="/dms"] [data-live-badge]').count()).toBe(0);
    expect(daveS.problems.all()).toEqual([]);
  });

  test("a channel renamed by an admin updates in every open tab of Bob (sidebar, header, title)", async () => {
    const tabs = [await openAs(m.bob), await openAs(m.bob, PHONE)];
    for (const t of tabs) {
      await t.page.goto(`${base}${m.channelPath}`);
      await t.page.waitForSelector("[data-chat-ready]", WAIT);
    }
    const channelId = m.group.channels[0]!.id;
    await call(m.aliceHeaders, "PATCH", `/api/channels/${channelId}`, { name: "renamed-live" });
    for (const t of tabs) {
      await t.page.waitForFunction((id) => document.querySelector(`#channel-nav a[href$="/ch/${id}"] .channel__name`)?.textContent === "renamed-live", channelId, WAIT);
      await t.page.waitForFunction(() => document.querySelector("#channel-header .channel-header__name")?.textContent === "renamed-live", undefined, WAIT);
      expect(await t.page.title()).toContain("#renamed-live");
      // Still the same page, chat still running (no reload: one socket).
      expect(t.sockets.length).toBe(1);
      expect(await t.page.locator("[data-chat-ready]").count()).toBe(1);
    }
    // A new channel appears too.
    const created = await call(m.aliceHeaders, "POST", `/api/groups/${m.group.id}/channels`, { name: "fresh-one" });
    for (const t of tabs) await t.page.locator(`#channel-nav a[href$="/ch/${created.id}"]`).waitFor({ state: "attached", ...WAIT });
    await screenshot(tabs[1]!.page, "live-nav-renamed-360");
    for (const t of tabs) {
      expect(t.problems.all()).toEqual([]);
      await t.context.close();
    }
  });

  test("a permission change that hides the channel Bob is reading removes it and moves him out with a notice", async () => {
    const hidden = await call(m.aliceHeaders, "POST", `/api/groups/${m.group.id}/channels`, { name: "soon-hidden" });
    const s = await openAs(m.bob);
    await s.page.goto(`${base}/c/${m.communityId}/ch/${hidden.id}`);
    await s.page.waitForSelector("[data-chat-ready]", WAIT);
    await call(m.aliceHeaders, "PUT", `/api/channels/${hidden.id}/overrides`, { base_role: "member", allow: [], deny: ["view_channel"] });
    await s.page.waitForURL(`${base}${m.channelPath}`, WAIT);
    const notice = s.page.locator('[data-testid="live-notice"]');
    await notice.waitFor(WAIT);
    expect(await notice.textContent()).toContain("That channel is no longer available to you.");
    expect(await s.page.locator(`#channel-nav a[href$="/ch/${hidden.id}"]`).count()).toBe(0);
    // The hidden channel's page now answers 404 (that is how the page learns it); Chromium logs
    // that response. Nothing else may go wrong.
    expect(s.problems.cspViolations).toEqual([]);
    expect(s.problems.pageErrors).toEqual([]);
    expect(s.problems.consoleErrors.filter((e) => !e.includes("status of 404"))).toEqual([]);
    await s.context.close();
  });

  test("a kick moves Bob out of the community with a notice, not a 404", async () => {
    const s = await openAs(m.bob);
    await s.page.goto(`${base}${m.channelPath}`);
    await s.page.waitForSelector("[data-chat-ready]", WAIT);
    await call(m.aliceHeaders, "DELETE", `/api/communities/${m.communityId}/members/${m.bob.id}`);
    await s.page.waitForURL(`${base}/`, WAIT);
    const notice = s.page.locator('[data-testid="live-notice"]');
    await notice.waitFor(WAIT);
    expect(await notice.textContent()).toContain("You were removed from Nav crew.");
    // The hub no longer lists the community.
    expect(await s.page.locator("#home-communities").getByRole("link", { name: /Nav crew/ }).count()).toBe(0);
    await axeClean(s.page, "home with a notice");
    await screenshot(s.page, "live-nav-kicked");
    expect(s.problems.all()).toEqual([]);
  });
});
