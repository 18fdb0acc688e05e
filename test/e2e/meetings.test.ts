// Meetings in two real browsers (issue 18 §5, docs/meetings.md): Alice schedules through the
// "Meeting…" dialog (keyboard, 360 px, axe-clean); the announcement is an encrypted message Bob
// decrypts; Bob answers Yes on the meeting card; the server holds no title (the email opt-in was
// not ticked). Email is off here: test/features/meetings covers mail with a real SMTP server.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted, type ApiCall } from "../helpers/chat-e2e.ts";
import type { TestUser } from "../helpers/users.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: no Chromium for the meetings browser test");
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
const TITLE = `Roadmap sync ${RUN}`;
const DESKTOP = { width: 1200, height: 800 };
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
}, 300_000);

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

async function openChat(page: Page, path: string): Promise<void> {
  const response = await page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  await page.waitForSelector("[data-chat-ready]", WAIT);
  await page.getByRole("button", { name: "Schedule a meeting" }).waitFor(WAIT);
}

describe.skipIf(!browser)("meetings in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let alicePage: Page;
  let bobPage: Page;
  let channelPath = "";
  const call: ApiCall = (...args) => apiCaller(ctx)(...args);

  test("Alice schedules with the keyboard; Bob decrypts the announcement and answers Yes", async () => {
    ({ alice, bob, channelPath } = await aliceAndBobInCommunity(ctx, call, "Meeting crew"));
    alicePage = (await openSignedIn(browser!, ctx, base, alice, { track: opened, viewport: DESKTOP })).page;
    bobPage = (await openSignedIn(browser!, ctx, base, bob, { track: opened, viewport: DESKTOP })).page;
    await openChat(alicePage, channelPath);
    await openChat(bobPage, channelPath);
    // Bob's first message makes Bob known to Alice's page (the attendee list comes from the names it knows).
    const input = bobPage.locator("#composer-input");
    await bobPage.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
    await input.fill(`hello ${RUN}`);
    await input.press("Enter");
    await seesDecrypted(alicePage, `hello ${RUN}`);

    await alicePage.setViewportSize(PHONE);
    await alicePage.getByRole("button", { name: "Schedule a meeting" }).focus();
    await alicePage.keyboard.press("Enter");
    const dialog = alicePage.getByRole("dialog", { name: "Schedule a meeting" });
    await dialog.waitFor(WAIT);
    // Empty title: the error is at the field.
    await dialog.getByRole("button", { name: "Schedule", exact: true }).click();
    await dialog.getByText("Give the meeting a title.").waitFor(WAIT);
    await dialog.getByLabel("Title", { exact: true }).focus();
    await alicePage.keyboard.type(TITLE);
    await dialog.getByText("the title goes into the email and is stored on the server").waitFor(WAIT);
    expect(await dialog.getByLabel("Put the title in the invitation email").isChecked()).toBe(false);
    expect(await alicePage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(alicePage, "meetings-dialog-360");
    expect(await seriousAxeViolations(alicePage, "dialog")).toEqual([]);
    await dialog.getByRole("button", { name: "Schedule", exact: true }).focus();
    await alicePage.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached", ...WAIT });

    // The announcement is an encrypted message; the card shows the title read from it.
    await seesDecrypted(bobPage, TITLE);
    await alicePage.locator(".meeting-card", { hasText: TITLE }).waitFor(WAIT);
    await bobPage.reload({ waitUntil: "load" });
    await bobPage.waitForSelector("[data-chat-ready]", WAIT);
    const card = bobPage.locator(".meeting-card", { hasText: TITLE });
    await card.waitFor(WAIT);
    await card.getByRole("button", { name: "Yes" }).click();
    await bobPage.locator('.meeting-card [aria-pressed="true"]', { hasText: "Yes" }).waitFor(WAIT);
    expect(await seriousAxeViolations(bobPage, ".meetings")).toEqual([]);
    await bobPage.setViewportSize(PHONE);
    await screenshot(bobPage, "meetings-card-360");
    expect(await bobPage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

    // The server keeps no title (no opt-in) but has Bob's answer and the message link.
    const rows = await ctx.database.db.selectFrom("meetings").selectAll().execute();
    expect(rows.length).toBe(1);
    expect(rows[0]!.title).toBeNull();
    expect(rows[0]!.message_id).not.toBeNull();
    expect(JSON.stringify(rows)).not.toContain(RUN);
    const answer = await ctx.database.db.selectFrom("meeting_attendees").select("rsvp").where("user_id", "=", bob.id).executeTakeFirstOrThrow();
    expect(answer.rsvp).toBe("yes");
  });
});
