// Acceptance test for the thread panel, the pin list and read receipts after a reload, in two
// real Chromium contexts (own IndexedDB, cookie sign-in) against the real server: every text is
// encrypted in one browser and decrypted in the other.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../helpers/chat-e2e.ts";
import { cookieSignIn, type TestUser } from "../helpers/users.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().slice(0, 8);
const DESKTOP = { width: 1200, height: 800 };
const PHONE = { width: 360, height: 740 };
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

type Session = { page: Page; problems: PageProblems; notFound: string[] };

async function openAs(user: TestUser): Promise<Session> {
  const { page, problems } = await openSignedIn(browser!, ctx, base, user, { track: opened, viewport: DESKTOP });
  const notFound: string[] = [];
  page.on("response", (r) => {
    if (r.status() === 404) notFound.push(new URL(r.url()).pathname);
  });
  return { page, problems, notFound };
}

async function openChat(s: Session, path: string): Promise<void> {
  expect((await s.page.goto(`${base}${path}`, { waitUntil: "load" }))?.status()).toBe(200);
  await s.page.waitForSelector("[data-chat-ready]", WAIT);
}

/** Sends from the main composer and waits until the row has its server id. */
async function say(s: Session, text: string): Promise<void> {
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await s.page.locator("#composer-input").fill(text);
  await s.page.locator("#composer-input").press("Enter");
  await s.page.locator("#messages .msg[data-message-id]:not(.msg--pending)", { hasText: text }).waitFor(WAIT);
}

/** `text` decrypted inside `scope` (a CSS selector). */
async function seesIn(s: Session, scope: string, text: string): Promise<void> {
  await s.page.locator(`${scope} .msg[data-state='ok'] .msg__text`, { hasText: text }).first().waitFor(WAIT);
}

const mainRow = (s: Session, text: string) => s.page.locator("#messages .msg", { hasText: text });
const threadPanel = (s: Session) => s.page.getByRole("dialog", { name: "Thread" });
const pinsPanel = (s: Session) => s.page.getByRole("dialog", { name: "Pinned messages" });

describe.skipIf(!browser)("threads, pins and read receipts in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceS: Session;
  let bobS: Session;
  let channelPath = "";
  let dmPath = "";
  const root = `thread root ${RUN}`;
  const reply1 = `first thread reply ${RUN}`;
  const reply2 = `second thread reply ${RUN}`;

  test("Alice starts a thread; Bob sees the reply count, opens the thread and reads the reply", async () => {
    const call = apiCaller(ctx);
    const crew = await aliceAndBobInCommunity(ctx, call, "Threads crew");
    ({ alice, bob, channelPath } = crew);
    dmPath = `/dms/${(await call(crew.aliceHeaders, "POST", "/api/dms", { user_id: bob.id })).channel_id}`;

    aliceS = await openAs(alice);
    bobS = await openAs(bob);
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);
    await say(aliceS, root);
    await seesIn(bobS, "#messages", root);

    // Alice: message menu → Reply in thread → the panel's own composer.
    await mainRow(aliceS, root).hover();
    await mainRow(aliceS, root).getByRole("button", { name: "Reply in thread" }).click();
    await threadPanel(aliceS).waitFor(WAIT);
    await seesIn(aliceS, ".side-panel", root);
    const box = threadPanel(aliceS).getByRole("textbox", { name: "Reply in thread" });
    await expect(box.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await box.fill(reply1);
    await box.press("Enter");
    await threadPanel(aliceS).locator(".msg[data-message-id]:not(.msg--pending)", { hasText: reply1 }).waitFor(WAIT);
    await mainRow(aliceS, root).getByRole("button", { name: /^1 reply/ }).waitFor(WAIT);

    // Bob: the root counts the reply; the reply itself is not in the main timeline.
    const count = mainRow(bobS, root).getByRole("button", { name: /^1 reply/ });
    await count.waitFor(WAIT);
    expect(await mainRow(bobS, reply1).count()).toBe(0);
    await count.click();
    await threadPanel(bobS).waitFor(WAIT);
    await seesIn(bobS, ".side-panel", reply1);
    await seesIn(bobS, ".side-panel", root);
    await screenshot(bobS.page, "thread-panel-bob-desktop");

    // Live: Alice's next reply appears in Bob's open panel and bumps the root's count.
    await box.fill(reply2);
    await box.press("Enter");
    await seesIn(bobS, ".side-panel", reply2);
    await mainRow(bobS, root).getByRole("button", { name: /^2 replies/ }).waitFor(WAIT);
    await threadPanel(bobS).getByText("2 replies").waitFor(WAIT);
    expect(await mainRow(bobS, reply2).count()).toBe(0);

    // Escape closes the panel and gives focus back to the button that opened it.
    await bobS.page.keyboard.press("Escape");
    await threadPanel(bobS).waitFor({ state: "detached", ...WAIT });
    expect(await bobS.page.evaluate(() => document.activeElement?.classList.contains("msg__thread"))).toBe(true);
    await aliceS.page.keyboard.press("Escape");
  });

  test("at 360 px the thread panel covers the screen, keeps Tab inside, and nothing overflows", async () => {
    await bobS.page.setViewportSize(PHONE);
    const opener = mainRow(bobS, root).getByRole("button", { name: /^2 replies/ });
    await opener.click();
    await seesIn(bobS, ".side-panel", reply2);
    const rect = await threadPanel(bobS).boundingBox();
    expect([rect?.x, rect?.width]).toEqual([0, PHONE.width]);
    expect(await bobS.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    // Tab from the last control wraps to the first (the close button), never into the page behind.
    for (let i = 0; i < 6; i++) {
      await bobS.page.keyboard.press("Tab");
      expect(await bobS.page.evaluate(() => !!document.activeElement?.closest(".side-panel"))).toBe(true);
    }
    await screenshot(bobS.page, "thread-panel-bob-360");
    await threadPanel(bobS).getByRole("button", { name: "Close thread" }).click();
    await threadPanel(bobS).waitFor({ state: "detached", ...WAIT });
    // The message menu (one more button now: Thread) stays inside the screen.
    await mainRow(bobS, root).hover();
    const menu = await mainRow(bobS, root).locator(".msg__actions").boundingBox();
    expect(menu!.x).toBeGreaterThanOrEqual(0);
    expect(menu!.x + menu!.width).toBeLessThanOrEqual(PHONE.width);
    await screenshot(bobS.page, "thread-menu-bob-360");
    await bobS.page.setViewportSize(DESKTOP);
  });

  test("after a reload the server-rendered page keeps thread replies out of the timeline and the count on the root", async () => {
    const { headers } = await cookieSignIn(ctx, bob);
    const html = await (await ctx.request(channelPath, { headers })).text();
    expect(html).toContain('data-thread-reply-count="2"');
    expect(html.match(/data-thread-root-id="/g)?.length).toBe(2);
    expect(html).toContain('class="msg-group msg-group--thread-replies" hidden');
    await bobS.page.reload({ waitUntil: "load" });
    await bobS.page.waitForSelector("[data-chat-ready]", WAIT);
    await seesIn(bobS, "#messages", root);
    await mainRow(bobS, root).getByRole("button", { name: /^2 replies/ }).waitFor(WAIT);
    expect(await mainRow(bobS, reply1).count()).toBe(0);
  });

  test("Alice pins the root; Bob opens Pins and reads it; jump and unpin work; the list follows live", async () => {
    await mainRow(aliceS, root).hover();
    await mainRow(aliceS, root).getByRole("button", { name: "More actions" }).click();
    await mainRow(aliceS, root).getByRole("button", { name: "Pin message" }).click();
    // The "More…" list closed after the action: the new Unpin item is there, hidden until opened.
    await mainRow(aliceS, root).getByRole("button", { name: "Unpin message", includeHidden: true }).waitFor({ state: "attached", ...WAIT });

    await bobS.page.getByRole("button", { name: "Pins" }).click();
    await pinsPanel(bobS).waitFor(WAIT);
    await seesIn(bobS, ".side-panel", root);
    // Bob is a plain member: no pin permission, so no Unpin (in the list or the menu).
    expect(await pinsPanel(bobS).getByRole("button", { name: "Unpin" }).count()).toBe(0);
    expect(await mainRow(bobS, root).getByRole("button", { name: /pin message/i, includeHidden: true }).count()).toBe(0);
    await screenshot(bobS.page, "pins-panel-bob-desktop");

    // Alice jumps to it from her own pin list, then unpins it there; Bob's open list empties live.
    await aliceS.page.getByRole("button", { name: "Pins" }).click();
    await seesIn(aliceS, ".side-panel", root);
    await pinsPanel(aliceS).getByRole("button", { name: "Jump to message" }).click();
    await pinsPanel(aliceS).waitFor({ state: "detached", ...WAIT });
    expect(await aliceS.page.evaluate(() => document.activeElement?.classList.contains("msg"))).toBe(true);
    await aliceS.page.getByRole("button", { name: "Pins" }).click();
    await pinsPanel(aliceS).getByRole("button", { name: "Unpin" }).click();
    await pinsPanel(aliceS).getByText("Nothing is pinned in this channel yet.").waitFor(WAIT);
    await pinsPanel(bobS).getByText("Nothing is pinned in this channel yet.").waitFor(WAIT);
    await mainRow(aliceS, root).getByRole("button", { name: "Pin message", includeHidden: true }).waitFor({ state: "attached", ...WAIT });
    await aliceS.page.keyboard.press("Escape");
    await bobS.page.keyboard.press("Escape");
  });

  test("in open thread panels: Bob reacts, Alice edits and deletes her replies from the panel's menu; Escape closes only the More… list", async () => {
    const edited = `edited thread reply ${RUN}`;
    const panelRow = (s: Session, text: string) => threadPanel(s).locator(".msg", { hasText: text });
    for (const s of [aliceS, bobS]) {
      await mainRow(s, root).getByRole("button", { name: /^2 replies/ }).click();
      await seesIn(s, ".side-panel", reply2);
    }
    // No Reply/Thread items in the panel (its composer is the reply; threads are one level).
    await panelRow(bobS, reply1).hover();
    expect(await panelRow(bobS, reply1).getByRole("button", { name: /^Reply/ }).count()).toBe(0);
    expect(await threadPanel(bobS).getByRole("button", { name: "Reply in thread" }).count()).toBe(0);

    // Bob reacts 👍 to Alice's reply; Alice's open panel shows the count live.
    await panelRow(bobS, reply1).getByRole("button", { name: "React with thumbs up" }).click();
    await panelRow(bobS, reply1).getByRole("button", { name: "👍 1 reaction, including yours" }).waitFor(WAIT);
    await panelRow(aliceS, reply1).getByRole("button", { name: "👍 1 reaction" }).waitFor(WAIT);

    // Alice edits her reply in the panel (More… → Edit); Bob's panel decrypts the new text.
    await panelRow(aliceS, reply1).hover();
    await panelRow(aliceS, reply1).getByRole("button", { name: "More actions" }).click();
    await panelRow(aliceS, reply1).getByRole("button", { name: "Edit message" }).click();
    const editor = threadPanel(aliceS).getByRole("textbox", { name: "Edit message" });
    await editor.fill(edited);
    await editor.press("Enter");
    await seesIn(aliceS, ".side-panel", edited);
    await seesIn(bobS, ".side-panel", edited);
    await panelRow(bobS, edited).getByText("(edited)").waitFor(WAIT);
    expect(await aliceS.page.evaluate(() => !!document.activeElement?.closest(".side-panel"))).toBe(true);

    // At 360 px, by keyboard: More… opens a list inside the screen that leaves the reply's text
    // uncovered; Escape closes the list only, focus back on its toggle, the panel stays open.
    await aliceS.page.setViewportSize(PHONE);
    const more = panelRow(aliceS, reply2).getByRole("button", { name: "More actions" });
    await more.focus();
    await aliceS.page.keyboard.press("Enter");
    const list = panelRow(aliceS, reply2).getByRole("group", { name: "More actions" });
    await list.waitFor(WAIT);
    const box = (await list.boundingBox())!;
    const text = (await panelRow(aliceS, reply2).locator(".msg__text").boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    expect(box.y >= text.y + text.height || box.y + box.height <= text.y).toBe(true);
    await screenshot(aliceS.page, "thread-panel-more-alice-360");
    await aliceS.page.keyboard.press("Escape");
    await list.waitFor({ state: "hidden", ...WAIT });
    expect(await more.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await threadPanel(aliceS).isVisible()).toBe(true);
    await aliceS.page.setViewportSize(DESKTOP);

    // Alice deletes a reply from the panel: both panels show the placeholder, the root's count drops.
    await panelRow(aliceS, reply2).hover();
    await panelRow(aliceS, reply2).getByRole("button", { name: "More actions" }).click();
    await panelRow(aliceS, reply2).getByRole("button", { name: "Delete message" }).click();
    // It asks first (issue 13 §9): the dialog names what happens.
    await aliceS.page.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete message" }).click();
    for (const s of [aliceS, bobS]) {
      await threadPanel(s).getByText("This message was deleted.").waitFor(WAIT);
      await threadPanel(s).getByText("1 reply").waitFor(WAIT);
      await mainRow(s, root).getByRole("button", { name: /^1 reply/ }).waitFor(WAIT);
      await s.page.keyboard.press("Escape");
      await threadPanel(s).waitFor({ state: "detached", ...WAIT });
    }
  });

  test("in a DM Bob reads; Alice reloads and still sees “Seen by Bob”", async () => {
    await openChat(aliceS, dmPath);
    const text = `dm for receipts ${RUN}`;
    await say(aliceS, text);
    await openChat(bobS, dmPath);
    await seesIn(bobS, "#messages", text);
    await aliceS.page.locator(".chat-seen", { hasText: "Seen by Bob" }).waitFor(WAIT); // live
    await aliceS.page.reload({ waitUntil: "load" });
    await aliceS.page.waitForSelector("[data-chat-ready]", WAIT);
    await aliceS.page.locator(".chat-seen", { hasText: "Seen by Bob" }).waitFor(WAIT); // listed after the reload
    for (const s of [aliceS, bobS]) {
      expect(s.notFound).toEqual([]);
      expect(s.problems.all()).toEqual([]);
    }
  });
});
