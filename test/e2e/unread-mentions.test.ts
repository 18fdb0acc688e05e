// Issue 13 §3 in real Chromium against the real server: unread and mention counts on the sidebar,
// the rail, the home hub and in the tab title, right after a reload; live on a second device of
// the same user, surviving a re-fetched sidebar; "Mark all as read" on one device clearing the
// other without reload; mention autocomplete by keyboard (@everyone offered only with the
// permission) and the mentioned reader's highlight; "Jump to first unread". axe-core on the
// changed pages at 1280 and 360 px.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted, type ApiCall, type SignedInBrowser } from "../helpers/chat-e2e.ts";
import { registerTestDevice, sendBody } from "../features/messages/helpers.ts";

setDefaultTimeout(180_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: unread and mention browser tests need Chromium at CHROMIUM_PATH");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
const opened: BrowserContext[] = [];
const call: ApiCall = (...args) => apiCaller(ctx)(...args);

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

async function axeClean(page: Page, name: string): Promise<void> {
  expect({ page: name, violations: await seriousAxeViolations(page) }).toEqual({ page: name, violations: [] });
}

/** The badge text of the first element matching `selector` ("" when it has none), as "@m u". */
async function badgesOf(page: Page, selector: string): Promise<string> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const wrap = el?.querySelector(":scope > [data-unread-badge]");
    return wrap ? [...wrap.querySelectorAll(".badge")].map((b) => b.firstChild?.textContent ?? "").join(" ") : "";
  }, selector);
}

async function waitBadges(page: Page, selector: string, want: string): Promise<void> {
  await page
    .waitForFunction(
      ([sel, w]) => {
        const wrap = document.querySelector(sel!)?.querySelector(":scope > [data-unread-badge]");
        const got = wrap ? [...wrap.querySelectorAll(".badge")].map((b) => b.firstChild?.textContent ?? "").join(" ") : "";
        return got === w;
      },
      [selector, want],
      WAIT,
    )
    .catch(async (error) => {
      throw new Error(`${selector}: wanted "${want}", got "${await badgesOf(page, selector)}" (${error})`);
    });
}

async function waitTitle(page: Page, prefix: RegExp): Promise<void> {
  await page.waitForFunction((src) => new RegExp(src).test(document.title), prefix.source, WAIT).catch(async (error) => {
    throw new Error(`title ${JSON.stringify(await page.title())} does not match ${prefix} (${error})`);
  });
}

describe.skipIf(!browser)("unread and mention counts", () => {
  test("after reload, on two devices of one user, in the title; mark all read on one clears the other", async () => {
    // Carol posts through the API (an opaque envelope from a registered test device: the counts
    // never look at the text); Dave reads in two browser contexts (two devices).
    const carol = await createUser(ctx, { displayName: "Carol" });
    const dave = await createUser(ctx, { displayName: "Dave" });
    await registerTestDevice(ctx, carol.id);
    const c = (await signIn(ctx, carol)).headers;
    const d = (await signIn(ctx, dave)).headers;
    const community = await call(c, "POST", "/api/communities", { name: "Counting crew" });
    const invite = await call(c, "POST", `/api/communities/${community.id}/invites`, {});
    await call(d, "POST", `/api/community-invites/${invite.code}/accept`);
    const group = (await call(c, "GET", `/api/communities/${community.id}/groups`)).groups[0];
    const general = group.channels[0].id;
    const random = (await call(c, "POST", `/api/groups/${group.id}/channels`, { name: "random" })).id;
    const post = (channelId: string, extra: Record<string, unknown> = {}, scheme: "sk" | "pw" = "sk") => call(c, "POST", `/api/channels/${channelId}/messages`, sendBody(extra, scheme));
    await post(random);
    await post(random, { mentions: [dave.id] });
    await post(random);

    const randomLink = `#channel-nav a[href="/c/${community.id}/ch/${random}"]`;
    const railItem = `.rail a.rail-item[href="/c/${community.id}"]`;
    const a: SignedInBrowser = await openSignedIn(browser!, ctx, base, dave, { track: opened, viewport: DESKTOP });
    if (process.env.UNREAD_DEBUG) a.page.on("response", (r) => r.status() >= 400 && console.log("A", r.status(), r.request().method(), r.url()));
    await a.page.goto(`${base}/c/${community.id}/ch/${general}`);
    await waitBadges(a.page, randomLink, "@1 3");
    await waitBadges(a.page, railItem, "@1 3");
    await waitTitle(a.page, /^\(@1 · 3\) #general/);
    await a.page.waitForSelector("[data-chat-ready]", WAIT); // this device's keys are set up before the reload
    // A reload shows the same (fetched once on load, one query on the server).
    await a.page.reload();
    await waitBadges(a.page, randomLink, "@1 3");
    await waitTitle(a.page, /^\(@1 · 3\) /);
    await a.page.waitForSelector("[data-chat-ready]", WAIT);
    await axeClean(a.page, "channel with counts 1280");
    await screenshot(a.page, "unread-channel-1280");

    // The second device: the home hub (server-rendered counts, then kept live).
    const b: SignedInBrowser = await openSignedIn(browser!, ctx, base, dave, { track: opened, viewport: PHONE });
    await b.page.goto(`${base}/`);
    const hubItem = `#home-communities a[href="/c/${community.id}"]`;
    await waitBadges(b.page, hubItem, "@1 3");
    await waitTitle(b.page, /^\(@1 · 3\) Home/);
    await axeClean(b.page, "home with counts 360");
    await screenshot(b.page, "unread-home-360");

    // Live on both devices: a new message, a DM with a mention.
    await post(random);
    await waitBadges(a.page, randomLink, "@1 4");
    await waitBadges(b.page, hubItem, "@1 4");
    const dm = await call(c, "POST", "/api/dms", { user_id: dave.id });
    await post(dm.channel_id, { mention_all: "everyone" }, "pw");
    await waitBadges(a.page, '.rail a[href="/dms"]', "@1 1");
    await waitBadges(b.page, `#home-dms a[href="/dms/${dm.channel_id}"]`, "@1 1");
    await waitTitle(a.page, /^\(@2 · 5\) /);
    // A re-fetched sidebar (a rename makes every tab swap its regions) keeps its counts.
    await call(c, "PATCH", `/api/channels/${random}`, { name: "random-renamed" });
    await a.page.waitForFunction((sel) => document.querySelector(sel)?.querySelector(".channel__name")?.textContent === "random-renamed", randomLink, WAIT);
    await waitBadges(a.page, randomLink, "@1 4");
    await waitBadges(a.page, railItem, "@1 4");

    // Mark all as read on the phone: the desktop clears without a reload.
    const loads = await a.page.evaluate(() => performance.getEntriesByType("navigation").length + ":" + performance.timeOrigin);
    await b.page.getByRole("button", { name: "Mark all as read" }).click();
    await waitBadges(a.page, randomLink, "");
    await waitBadges(a.page, railItem, "");
    await waitBadges(a.page, '.rail a[href="/dms"]', "");
    await a.page.waitForFunction(() => !document.title.startsWith("("), undefined, WAIT);
    expect(await a.page.evaluate(() => performance.getEntriesByType("navigation").length + ":" + performance.timeOrigin)).toBe(loads);
    await waitBadges(b.page, hubItem, "");
    expect(await b.page.title()).not.toMatch(/^\(/);

    // Per community, from the community header (a plain form): only that community's channels.
    await post(random);
    await post(dm.channel_id, {}, "pw");
    await waitBadges(a.page, randomLink, "1");
    await waitBadges(a.page, '.rail a[href="/dms"]', "1");
    await a.page.getByRole("button", { name: "Mark all of Counting crew as read" }).click();
    await a.page.waitForSelector("[data-chat-ready]", WAIT);
    await waitBadges(a.page, randomLink, "");
    await waitBadges(a.page, '.rail a[href="/dms"]', "1");
    await waitTitle(a.page, /^\(1\) /);
    expect(a.problems.all()).toEqual([]);
    expect(b.problems.all()).toEqual([]);
    await a.context.close();
    await b.context.close();
  });

  test("Jump to first unread: shown while the New divider is scrolled away, and takes the reader there", async () => {
    const carol = await createUser(ctx, { displayName: "Erin" });
    const dave = await createUser(ctx, { displayName: "Frank" });
    await registerTestDevice(ctx, carol.id);
    const c = (await signIn(ctx, carol)).headers;
    const d = (await signIn(ctx, dave)).headers;
    const community = await call(c, "POST", "/api/communities", { name: "Backlog" });
    const invite = await call(c, "POST", `/api/communities/${community.id}/invites`, {});
    await call(d, "POST", `/api/community-invites/${invite.code}/accept`);
    const general = (await call(c, "GET", `/api/communities/${community.id}/groups`)).groups[0].channels[0].id;
    const sent = [];
    for (let i = 0; i < 30; i++) sent.push(await call(c, "POST", `/api/channels/${general}/messages`, sendBody()));
    await call(d, "PUT", `/api/channels/${general}/read`, { seq: sent[4].message.seq });
    const s = await openSignedIn(browser!, ctx, base, dave, { track: opened, viewport: PHONE });
    await s.page.goto(`${base}/c/${community.id}/ch/${general}`);
    await s.page.waitForSelector("[data-chat-ready]", WAIT);
    const jumpButton = s.page.getByRole("button", { name: "Jump to first unread ↑" });
    await jumpButton.waitFor({ state: "visible", ...WAIT });
    // The divider sits right before the first message after the cursor.
    expect(await s.page.evaluate(() => (document.querySelector(".unread-sep")?.nextElementSibling as HTMLElement | null)?.querySelector<HTMLElement>(".msg")?.dataset.messageId)).toBe(sent[5].message.id);
    await axeClean(s.page, "channel with jump to first unread 360");
    await jumpButton.click();
    await s.page.waitForFunction(() => {
      const sep = document.querySelector(".unread-sep")!.getBoundingClientRect();
      const pane = document.querySelector(".pane-body")!.getBoundingClientRect();
      return sep.top >= pane.top - 1 && sep.bottom <= pane.bottom + 1;
    }, undefined, WAIT);
    expect(await jumpButton.isHidden()).toBe(true);
    await s.context.close();
  });
});

describe.skipIf(!browser)("mentions", () => {
  test("autocomplete by keyboard; @everyone only with the permission; the mentioned reader sees the highlight", async () => {
    const m = await aliceAndBobInCommunity(ctx, call, "Mention crew");
    const alice = await openSignedIn(browser!, ctx, base, m.alice, { track: opened, viewport: DESKTOP });
    const bob = await openSignedIn(browser!, ctx, base, m.bob, { track: opened, viewport: PHONE });
    for (const s of [alice, bob]) {
      await s.page.goto(`${base}${m.channelPath}`);
      await s.page.waitForSelector("[data-chat-ready]", WAIT);
    }
    const input = alice.page.locator("form[data-composer] textarea");
    await input.click();
    await alice.page.keyboard.type("hi @b");
    const list = alice.page.getByRole("listbox", { name: "People to mention" });
    await list.waitFor({ state: "visible", ...WAIT });
    expect(await list.getByRole("option").allTextContents()).toEqual(["@Bob"]);
    expect(await input.getAttribute("aria-activedescendant")).toBe(await list.getByRole("option").first().getAttribute("id"));
    await axeClean(alice.page, "composer with mention list 1280");
    await screenshot(alice.page, "mention-autocomplete-1280");
    await alice.page.keyboard.press("Enter"); // inserts, does not send
    expect(await input.inputValue()).toBe("hi @Bob ");
    expect(await list.isHidden()).toBe(true);
    await alice.page.keyboard.type("look at this");
    await alice.page.keyboard.press("Enter");
    await seesDecrypted(bob.page, "look at this");
    const mentioned = bob.page.locator(".msg.msg--mentioned", { hasText: "look at this" });
    await mentioned.waitFor(WAIT);
    expect(await mentioned.locator(".mention.mention--self").textContent()).toBe("@Bob");

    // @everyone: the owner is offered it (Down and Up move, Tab inserts); Escape closes.
    await alice.page.keyboard.type("@e");
    await list.waitFor({ state: "visible", ...WAIT });
    const options = await list.getByRole("option").allTextContents();
    expect(options.map((o) => o.split(" ")[0])).toContain("@everyone");
    await alice.page.keyboard.press("Escape");
    expect(await list.isHidden()).toBe(true);
    expect(await input.inputValue()).toBe("@e");
    await alice.page.keyboard.press("Backspace");
    await alice.page.keyboard.type("ever");
    await list.waitFor({ state: "visible", ...WAIT });
    await alice.page.keyboard.press("ArrowDown");
    await alice.page.keyboard.press("ArrowUp");
    await alice.page.keyboard.press("Tab");
    expect(await input.inputValue()).toBe("@everyone ");
    await alice.page.keyboard.type("standup now");
    await alice.page.keyboard.press("Enter");
    await seesDecrypted(bob.page, "standup now");
    const all = bob.page.locator(".msg.msg--mentioned", { hasText: "standup now" });
    await all.waitFor(WAIT);
    expect(await all.locator(".mention.mention--self").textContent()).toBe("@everyone");

    // Bob (a plain member) is not offered @everyone; typed anyway, it stays plain text for everyone.
    const bobInput = bob.page.locator("form[data-composer] textarea");
    await bobInput.click();
    await bob.page.keyboard.type("@");
    const bobList = bob.page.getByRole("listbox", { name: "People to mention" });
    await bobList.waitFor({ state: "visible", ...WAIT });
    const bobOptions = (await bobList.getByRole("option").allTextContents()).map((o) => o.split(" ")[0]);
    expect(bobOptions).toContain("@Alice");
    expect(bobOptions).not.toContain("@everyone");
    expect(bobOptions).not.toContain("@here");
    await axeClean(bob.page, "composer with mention list 360");
    await screenshot(bob.page, "mention-autocomplete-360");
    await bob.page.keyboard.press("Escape");
    await bob.page.keyboard.type("everyone hello");
    await bob.page.keyboard.press("Enter");
    await seesDecrypted(alice.page, "hello");
    const plain = alice.page.locator(".msg", { hasText: "everyone hello" });
    await plain.waitFor(WAIT);
    expect(await plain.locator(".mention").count()).toBe(0);
    expect(await plain.evaluate((el) => el.classList.contains("msg--mentioned"))).toBe(false);

    // Bob made a moderator is offered @everyone; demoted while the page is open, his @everyone is
    // refused (403 MENTION_EVERYONE_DENIED) and the reason shows at the composer.
    await call(m.aliceHeaders, "PUT", `/api/communities/${m.communityId}/members/${m.bob.id}/role`, { role: "moderator" });
    await bob.page.reload();
    await bob.page.waitForSelector("[data-chat-ready]", WAIT);
    await bobInput.click();
    await bob.page.keyboard.type("@every");
    await bobList.waitFor({ state: "visible", ...WAIT });
    expect((await bobList.getByRole("option").allTextContents()).map((o) => o.split(" ")[0])).toEqual(["@everyone"]);
    await bob.page.keyboard.press("Enter");
    await call(m.aliceHeaders, "PUT", `/api/communities/${m.communityId}/members/${m.bob.id}/role`, { role: "member" });
    await bob.page.keyboard.type("meeting");
    await bob.page.keyboard.press("Enter");
    const notice = bob.page.locator(".composer-notice[data-paste-notice]");
    await notice.waitFor(WAIT);
    expect(await notice.textContent()).toContain("permission to mention @everyone");
    expect(alice.problems.all()).toEqual([]);
    // Bob's expected problems: the refused send's 403 in the console, and, when his send raced the
    // role changes (a role change bumps the readers' version), the 409 VIEWERS_CHANGED the client
    // answers by encrypting for the new readers and sending again (docs/messages.md).
    expect(bob.problems.all().filter((p) => !p.includes("403") && !p.includes("409"))).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });
});
