// Issue 17 §6 in two real browsers (Alice and Bob, own Chromium contexts, own E2EE devices):
// Alice edits a channel message twice and Bob opens its edit history, decrypted in his browser
// (all three texts); Alice forwards it to their DM and Bob sees it there marked "Forwarded"; Bob
// drives the quick switcher by keyboard at 360 px (Ctrl+K, type, arrows, Enter; Escape returns
// focus) and opens it from the account menu too; axe finds nothing serious in the dialogs; and no
// version or forwarded text is in the database or the data directories.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted as seesDecryptedOn, type ApiCall } from "../helpers/chat-e2e.ts";
import type { TestUser } from "../helpers/users.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: history-forward browser tests need Chromium (CHROMIUM_PATH)");
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const MARKERS = {
  v1: `PLAINTEXT-VERSION-ONE-${RUN}`,
  v2: `PLAINTEXT-VERSION-TWO-${RUN}`,
  v3: `PLAINTEXT-VERSION-THREE-${RUN}`,
};
const DESKTOP = { width: 1200, height: 800 };
const PHONE = { width: 360, height: 740 };
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDatabaseDir = () => {};
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-history");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  ctx = await createTestContext({ database: inspectable.database, env: { COMMUNITY_CREATION_MODE: "anyone" } });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
  removeDatabaseDir();
});

type Session = { context: BrowserContext; page: Page; problems: PageProblems };

async function openChat(s: Session, path: string): Promise<void> {
  const response = await s.page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  await s.page.waitForSelector("[data-chat-ready]", WAIT);
  await s.page.getByRole("button", { name: "Create a poll" }).waitFor(WAIT); // the extras chunk mounted
}

async function say(s: Session, text: string): Promise<void> {
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  const input = s.page.locator("#composer-input");
  await input.fill(text);
  await input.press("Enter");
  await s.page.waitForFunction((t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending")), text, WAIT);
}

async function edit(s: Session, from: string, to: string): Promise<void> {
  const row = s.page.locator(".msg", { hasText: from });
  await row.hover();
  await row.getByRole("button", { name: "More actions" }).click();
  await row.getByRole("button", { name: "Edit message" }).click();
  const editor = s.page.getByRole("textbox", { name: "Edit message" });
  await editor.fill(to);
  await editor.press("Enter");
  await seesDecryptedOn(s.page, to, WAIT);
}

const activeId = (p: Page) => p.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent?.trim() ?? "");

describe.skipIf(!browser)("edit history, forward and the quick switcher in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceS: Session;
  let bobS: Session;
  let channelPath = "";
  let dmPath = "";
  let communityId = "";
  const call: ApiCall = (...args) => apiCaller(ctx)(...args);

  test("setup: Alice and Bob in a channel and a DM; Alice's message reaches Bob", async () => {
    const crew = await aliceAndBobInCommunity(ctx, call, "Switchyard");
    ({ alice, bob, channelPath, communityId } = crew);
    const dm = await call(crew.aliceHeaders, "POST", "/api/dms", { user_id: bob.id });
    dmPath = `/dms/${dm.channel_id}`;
    aliceS = await openSignedIn(browser!, ctx, base, alice, { track: opened, viewport: DESKTOP });
    bobS = await openSignedIn(browser!, ctx, base, bob, { track: opened, viewport: DESKTOP });
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);
    await say(aliceS, MARKERS.v1);
    await seesDecryptedOn(bobS.page, MARKERS.v1, WAIT);
  });

  test("Alice edits twice; Bob opens the history from \"(edited)\" and reads all three texts, decrypted in his browser", async () => {
    // The first edit's answer is held back until Alice's socket has brought the message:edited
    // echo: the order that once made her browser keep v1's key under v2's name (2 runs in 9).
    // The second edit goes in the usual order (answer first, most of the time).
    // The echo sets the row's data-ciphertext at once (onEdited); the answer is released after it.
    const row = aliceS.page.locator(".msg", { hasText: MARKERS.v1 });
    const v1Ciphertext = await row.getAttribute("data-ciphertext");
    const messageId = await row.getAttribute("data-message-id");
    expect(v1Ciphertext).toBeTruthy();
    let echoedFirst = false;
    await aliceS.page.route(/\/api\/messages\/[0-9a-f-]{36}$/, async (route) => {
      if (route.request().method() !== "PATCH") return route.continue();
      const response = await route.fetch();
      for (let i = 0; i < 200 && !echoedFirst; i++) {
        echoedFirst = await aliceS.page.evaluate(([id, old]) => {
          const c = document.querySelector<HTMLElement>(`.msg[data-message-id="${id}"]`)?.dataset.ciphertext;
          return !!c && c !== old;
        }, [messageId!, v1Ciphertext!] as const);
        if (!echoedFirst) await Bun.sleep(50);
      }
      await route.fulfill({ response });
    });
    await edit(aliceS, MARKERS.v1, MARKERS.v2);
    await aliceS.page.unrouteAll({ behavior: "ignoreErrors" });
    expect(echoedFirst).toBe(true);
    await seesDecryptedOn(bobS.page, MARKERS.v2, WAIT);
    await edit(aliceS, MARKERS.v2, MARKERS.v3);
    await seesDecryptedOn(bobS.page, MARKERS.v3, WAIT);
    const edited = bobS.page.locator(".msg", { hasText: MARKERS.v3 }).getByRole("button", { name: "Edited: show the edit history" });
    await edited.focus();
    await bobS.page.keyboard.press("Enter");
    const dialog = bobS.page.getByRole("dialog", { name: "Edit history" });
    await dialog.getByText("3 versions of Alice's message.").waitFor(WAIT);
    const items = await dialog.locator(".edit-history__text").allTextContents();
    expect(items).toEqual([MARKERS.v1, MARKERS.v2, MARKERS.v3]);
    expect(await seriousAxeViolations(bobS.page, ".edit-history")).toEqual([]);
    await screenshot(bobS.page, "edit-history-bob-desktop");
    await bobS.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", ...WAIT });
    expect(await activeId(bobS.page)).toBe("Edited: show the edit history");
    // Alice's own browser reads the history too (the keys she kept when she edited).
    await aliceS.page.locator(".msg", { hasText: MARKERS.v3 }).getByRole("button", { name: "Edited: show the edit history" }).click();
    const hers = aliceS.page.getByRole("dialog", { name: "Edit history" });
    await hers.getByText("3 versions").waitFor(WAIT);
    expect(await hers.locator(".edit-history__text").allTextContents()).toEqual([MARKERS.v1, MARKERS.v2, MARKERS.v3]);
    await hers.getByRole("button", { name: "Close: Edit history" }).click();
  });

  test("Alice forwards the message to the DM; Bob sees it there, decrypted and marked Forwarded", async () => {
    const row = aliceS.page.locator(".msg", { hasText: MARKERS.v3 });
    await row.hover();
    await row.getByRole("button", { name: "More actions" }).click();
    await row.getByRole("button", { name: "Forward message" }).click();
    const dialog = aliceS.page.getByRole("dialog", { name: "Forward message" });
    await dialog.getByRole("button", { name: "Forward to DM: Bob" }).waitFor(WAIT);
    await dialog.getByRole("searchbox", { name: "Find a conversation" }).fill("bob");
    expect(await seriousAxeViolations(aliceS.page, ".forward-dialog")).toEqual([]);
    await dialog.getByRole("button", { name: "Forward to DM: Bob" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
    await openChat(bobS, dmPath);
    await seesDecryptedOn(bobS.page, MARKERS.v3, WAIT);
    const fwd = bobS.page.locator(".msg", { hasText: MARKERS.v3 }).locator(".msg__fwd");
    await fwd.waitFor(WAIT);
    expect(await fwd.textContent()).toBe("Forwarded from Alice");
    // The server stored an ordinary pairwise ciphertext: no flag, no text of its own.
    const stored = await call((await import("../helpers/users.ts").then((m) => m.signIn(ctx, bob))).headers, "GET", `/api/channels/${dmPath.split("/").pop()}/messages`);
    expect(stored.messages[0]).toMatchObject({ scheme: "pw", sender_id: alice.id });
    expect(JSON.stringify(stored.messages[0])).not.toContain("orward");
    await screenshot(bobS.page, "forwarded-dm-bob-desktop");
  });

  test("the quick switcher at 360 px by keyboard: Ctrl+K, type, arrows, Enter; Escape returns focus; the account menu opens it too", async () => {
    const page = bobS.page;
    await page.setViewportSize(PHONE);
    await openChat(bobS, dmPath);
    await page.waitForFunction(() => !!document.querySelector("[data-switcher-open]:not([hidden])"), undefined, WAIT);
    // Escape closes and gives focus back.
    await page.locator("#composer-input").focus();
    await page.keyboard.press("Control+k");
    const input = page.getByRole("combobox", { name: "Jump to" });
    await input.waitFor(WAIT);
    expect(await activeId(page)).toBe("Jump to");
    await page.keyboard.press("Escape");
    await input.waitFor({ state: "detached", ...WAIT });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("composer-input");
    // Find the community's channel: type, move with the arrows, Enter.
    await page.keyboard.press("Control+k");
    await input.waitFor(WAIT);
    await page.locator(".switcher__option").first().waitFor(WAIT);
    await page.keyboard.type("switchy");
    // The community (its name starts with the query) first, then its #general (in Switchyard).
    await page.waitForFunction(() => document.querySelectorAll(".switcher [role=option]").length === 2, undefined, WAIT).catch(async (error) => {
      throw new Error(`options: ${JSON.stringify(await page.evaluate(() => [[...document.querySelectorAll(".switcher [role=option]")].map((o) => o.textContent), document.activeElement?.outerHTML.slice(0, 200), document.querySelectorAll("dialog").length, document.querySelector<HTMLInputElement>(".switcher input")?.value]))} ${error}`);
    });
    const selected = () => page.evaluate(() => document.querySelector(".switcher [role=option][aria-selected=true]")?.textContent ?? "");
    expect(await selected()).toContain("Community");
    await page.keyboard.press("ArrowDown");
    expect(await selected()).toContain("#general");
    await page.keyboard.press("ArrowDown"); // wraps
    expect(await selected()).toContain("Community");
    await page.keyboard.press("ArrowUp");
    expect(await selected()).toContain("#general");
    const width = await page.evaluate(() => document.querySelector("dialog.switcher")!.getBoundingClientRect().width);
    expect(width).toBeLessThanOrEqual(360);
    expect(await seriousAxeViolations(page, "dialog.switcher")).toEqual([]);
    await screenshot(page, "switcher-bob-phone");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}${channelPath}`, WAIT);
    await page.waitForSelector("[data-chat-ready]", WAIT);
    // The visible way in: the account menu's "Jump to…" (on a phone it sits in the sliding sidebar; here on a desktop).
    await page.setViewportSize(DESKTOP);
    await page.waitForFunction(() => !!document.querySelector("[data-switcher-open]:not([hidden])"), undefined, WAIT);
    await page.locator('[data-testid="user-menu"]:visible').first().click();
    await page.locator("[data-switcher-open]:visible").first().click();
    await input.waitFor(WAIT);
    await page.keyboard.type("ali");
    await page.waitForFunction(() => [...document.querySelectorAll(".switcher [role=option]")].some((o) => o.textContent?.includes("DM")), undefined, WAIT);
    expect(await selected()).toContain("Alice");
    expect(await selected()).toContain("DM");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}${dmPath}`, WAIT);
    expect(communityId).not.toBe("");
    for (const s of [aliceS, bobS]) expect(s.problems.all()).toEqual([]);
  });

  test("no version or forwarded plaintext in the database or the data directories", async () => {
    const edits = await sql<{ n: number }>`select count(*)::int as n from message_edits`.execute(ctx.database.db);
    expect(edits.rows[0]!.n).toBe(2);
    const control = `CTRL-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-history-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    const { hits, controlFoundIn, rows, scannedBytes } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: Object.values(MARKERS), control, pglite, pgliteDir });
    console.log(`plaintext scan: ${Object.keys(MARKERS).length} markers over ${rows} rows and ${(scannedBytes / 1e6).toFixed(1)} MB: ${hits.length} hits`);
    expect(hits).toEqual([]);
    expect(controlFoundIn.has("table")).toBe(true);
    if (!TEST_DATABASE_URL) expect(controlFoundIn.has("pglite")).toBe(true);
  });
});
