// Acceptance test of the chat extras in two real browsers (Alice and Bob, own Chromium contexts,
// own E2EE devices) against the real server: the emoji picker driven by the keyboard only, an
// encrypted poll with live counts, a scheduled message delivered by the job and decrypted, a
// bookmark with a note only its owner can read, automatic resend of a send the server refused
// once with 503, messages of a blocked user collapsed — and none of the plaintexts in the
// database or the data directories.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { setActivityInterval, startMessageJobs } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted as seesDecryptedOn, type ApiCall } from "../helpers/chat-e2e.ts";
import { signIn, type TestUser } from "../helpers/users.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const MARKERS = {
  pollQuestion: `PLAINTEXT-POLL-Q-${RUN}`,
  pollOptionA: `PLAINTEXT-POLL-A-${RUN}`,
  pollOptionB: `PLAINTEXT-POLL-B-${RUN}`,
  scheduled: `PLAINTEXT-SCHEDULED-${RUN}`,
  note: `PLAINTEXT-NOTE-${RUN}`,
  noteEdited: `PLAINTEXT-NOTE-EDITED-${RUN}`,
  noteReplaced: `PLAINTEXT-NOTE-REPLACED-${RUN}`,
  resent: `PLAINTEXT-RESENT-${RUN}`,
};
const DESKTOP = { width: 1200, height: 800 };
const PHONE = { width: 360, height: 740 };
// Wide: a loaded machine is slow, not wrong (a wait only costs its length when something is broken).
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDatabaseDir = () => {};
let stopJobs: () => Promise<void> = async () => {};
const opened: BrowserContext[] = [];
// The server's clock runs this far ahead of the wall clock: the scheduled message is due when the
// test moves it, not when a few seconds of a loaded machine have passed (nor refused as already
// past because filling the form took longer than its lead).
let serverSkewMs = 0;

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-chat-extras");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  ctx = await createTestContext({ database: inspectable.database, env: { COMMUNITY_CREATION_MODE: "anyone" }, now: () => Date.now() + serverSkewMs });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  await stopJobs();
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
  removeDatabaseDir();
});

type Session = { context: BrowserContext; page: Page; problems: PageProblems };

async function openAs(user: TestUser): Promise<Session> {
  return openSignedIn(browser!, ctx, base, user, { track: opened, viewport: DESKTOP });
}

async function openChat(s: Session, path: string): Promise<void> {
  const response = await s.page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  await s.page.waitForSelector("[data-chat-ready]", WAIT);
  // The extras chunk has mounted (composer actions appear with it).
  await s.page.getByRole("button", { name: "Create a poll" }).waitFor(WAIT);
}

async function say(s: Session, text: string): Promise<void> {
  const input = s.page.locator("#composer-input");
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await input.fill(text);
  await input.press("Enter");
  await sent(s, text);
}

async function sent(s: Session, text: string): Promise<void> {
  await s.page.waitForFunction(
    (t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending") && !m.classList.contains("msg--failed")),
    text,
    WAIT,
  ).catch(async (error) => {
    const rows = await s.page.evaluate(() => [...document.querySelectorAll<HTMLElement>(".msg")].slice(-3).map((m) => `${m.className} ${m.dataset.messageId}: ${m.textContent}`));
    throw new Error(`send of ${text} did not complete: ${JSON.stringify(rows)} ${error}`);
  });
}

const seesDecrypted = (s: Session, text: string) => seesDecryptedOn(s.page, text, WAIT);

const activeLabel = (s: Session) => s.page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "");

describe.skipIf(!browser)("chat extras in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceS: Session;
  let bobS: Session;
  let bobHeaders: Record<string, string> = {};
  let channelPath = "";
  const first = `first message ${RUN}`;

  const call: ApiCall = (...args) => apiCaller(ctx)(...args);

  test("setup: Alice and Bob in a channel; Alice's first message reaches Bob", async () => {
    ({ alice, bob, bobHeaders, channelPath } = await aliceAndBobInCommunity(ctx, call, "Extras crew"));
    aliceS = await openAs(alice);
    bobS = await openAs(bob);
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);
    await say(aliceS, first);
    await seesDecrypted(bobS, first);
  });

  test("Bob reacts through the emoji picker with the keyboard only; Alice sees it; Escape returns focus", async () => {
    await bobS.page.setViewportSize(PHONE); // the picker must fit a phone
    const row = bobS.page.locator(".msg", { hasText: first });
    const more = row.getByRole("button", { name: "Add a reaction" });
    await more.focus(); // as if tabbed to: the action bar shows on focus-within
    await bobS.page.keyboard.press("Enter");
    const search = bobS.page.getByRole("searchbox", { name: "Search emoji by name" });
    await search.waitFor(WAIT);
    expect(await more.getAttribute("aria-expanded")).toBe("true");
    expect(await activeLabel(bobS)).toBe("Search emoji by name");
    await bobS.page.keyboard.type("part");
    await bobS.page.keyboard.press("ArrowDown"); // into the grid: 🎉 party popper, 🥳 partying face
    expect(await activeLabel(bobS)).toBe("party popper");
    await bobS.page.keyboard.press("ArrowRight");
    expect(await activeLabel(bobS)).toBe("partying face");
    await bobS.page.keyboard.press("ArrowLeft");
    await screenshot(bobS.page, "chat-extras-emoji-picker-360");
    const box = (await bobS.page.locator(".emoji-picker").boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await bobS.page.keyboard.press("Enter");
    await aliceS.page.locator(".msg", { hasText: first }).locator(".reaction", { hasText: "🎉 1" }).waitFor(WAIT);
    await search.waitFor({ state: "detached", ...WAIT });
    expect(await activeLabel(bobS)).toBe("Add a reaction"); // focus is back on the button
    expect(await more.getAttribute("aria-expanded")).toBe("false");
    // Escape closes without picking and returns focus.
    await bobS.page.keyboard.press("Enter");
    await search.waitFor(WAIT);
    await bobS.page.keyboard.press("Escape");
    await search.waitFor({ state: "detached", ...WAIT });
    expect(await activeLabel(bobS)).toBe("Add a reaction");
    await bobS.page.setViewportSize(DESKTOP);
  });

  test("a 21st distinct reaction: the server's refusal shows in the picker", async () => {
    const messageId = await bobS.page.locator(".msg", { hasText: first }).getAttribute("data-message-id");
    const more = ["😀", "😃", "😄", "😁", "😅", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😍", "🥰", "😘", "😋", "😎", "🤓", "😏", "😒"];
    for (const e of more) await call(bobHeaders, "PUT", `/api/messages/${messageId}/reactions/${encodeURIComponent(e)}`);
    await bobS.page.locator(".msg", { hasText: first }).getByRole("button", { name: "Add a reaction" }).focus();
    await bobS.page.keyboard.press("Enter");
    await bobS.page.keyboard.type("rocket");
    await bobS.page.keyboard.press("Enter");
    const alert = bobS.page.locator(".emoji-picker__error");
    await alert.waitFor({ state: "visible", ...WAIT });
    expect(await alert.textContent()).toMatch(/20|reaction/i);
    await bobS.page.keyboard.press("Escape");
  });

  test("the composer's emoji button inserts at the caret", async () => {
    const input = aliceS.page.locator("#composer-input");
    await input.fill("hello world");
    await input.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(5, 5));
    await aliceS.page.getByRole("button", { name: "Insert emoji" }).click();
    await aliceS.page.keyboard.type("fire");
    await aliceS.page.keyboard.press("Enter");
    expect(await input.inputValue()).toBe("hello🔥 world");
    await input.fill("");
  });

  test("Alice creates a poll; Bob sees the decrypted question and votes; Alice sees the count live", async () => {
    await aliceS.page.getByRole("button", { name: "Create a poll" }).click();
    const dialog = aliceS.page.getByRole("dialog", { name: "Create a poll" });
    await dialog.waitFor(WAIT);
    // Empty submit: errors at the fields.
    await dialog.getByRole("button", { name: "Create poll" }).click();
    await dialog.getByText("Enter a question.").waitFor(WAIT);
    await dialog.getByLabel("Question").fill(`Lunch? ${MARKERS.pollQuestion}`);
    await dialog.getByLabel("Option 1", { exact: true }).fill(`Pizza ${MARKERS.pollOptionA}`);
    await dialog.getByLabel("Option 2", { exact: true }).fill(`Salad ${MARKERS.pollOptionB}`);
    await dialog.getByRole("button", { name: "Add option" }).click();
    await dialog.getByLabel("Option 3", { exact: true }).fill("Soup");
    await dialog.getByRole("button", { name: "Remove option 3" }).click();
    expect(await dialog.getByLabel("Option 3", { exact: true }).count()).toBe(0);
    await aliceS.page.setViewportSize(PHONE);
    await screenshot(aliceS.page, "chat-extras-poll-dialog-360");
    expect(await aliceS.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await aliceS.page.setViewportSize(DESKTOP);
    await dialog.getByRole("button", { name: "Create poll" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });

    const bobPoll = bobS.page.locator(".poll", { hasText: MARKERS.pollQuestion });
    await bobPoll.waitFor(WAIT);
    await bobPoll.getByLabel(`Salad ${MARKERS.pollOptionB}`, { exact: false }).check();
    await bobPoll.getByRole("button", { name: "Vote" }).click();
    const alicePoll = aliceS.page.locator(".poll", { hasText: MARKERS.pollQuestion });
    await alicePoll.locator("[data-poll-count='1']", { hasText: "1 vote" }).waitFor(WAIT);
    expect(await alicePoll.locator("[data-poll-count='0']").textContent()).toBe("0 votes");
    // Only the creator or a moderator (Alice owns the community) is offered "Close poll".
    expect(await bobPoll.getByRole("button", { name: "Close poll" }).count()).toBe(0);
    // Alice closes it; Bob sees it closed (no more voting).
    await alicePoll.getByRole("button", { name: "Close poll" }).click();
    await bobPoll.locator(".poll__total", { hasText: "Final: 1 vote" }).waitFor(WAIT);
    expect(await bobPoll.getByRole("button", { name: /Vote/ }).count()).toBe(0);
    await bobS.page.setViewportSize(PHONE);
    await screenshot(bobS.page, "chat-extras-poll-360");
    await bobS.page.setViewportSize(DESKTOP);
  });

  test("the polls strip pages: past the newest 20, Show older polls brings the rest", async () => {
    const channelId = channelPath.split("/").pop()!;
    const junk = () => Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
    for (let i = 0; i < 20; i++) {
      await call(bobHeaders, "POST", `/api/channels/${channelId}/polls`, { client_id: crypto.randomUUID(), question_ciphertext: junk(), option_count: 2, multi_select: false, anonymous: false });
    }
    await openChat(bobS, channelPath);
    await seesDecrypted(bobS, first);
    const strip = bobS.page.locator(".polls");
    const older = strip.getByRole("button", { name: "Show older polls" });
    await older.waitFor(WAIT);
    expect(await strip.locator(".poll").count()).toBe(20);
    expect(await strip.locator(".poll", { hasText: MARKERS.pollQuestion }).count()).toBe(0);
    await older.click();
    await strip.locator(".poll", { hasText: MARKERS.pollQuestion }).waitFor(WAIT);
    expect(await strip.locator(".poll").count()).toBe(21);
    await older.waitFor({ state: "hidden", ...WAIT });
  });

  test("Alice schedules a message a few seconds ahead; the job delivers it and Bob reads it decrypted", async () => {
    const { page } = aliceS;
    await page.getByRole("button", { name: "Schedule a message" }).click();
    const dialog = page.getByRole("dialog", { name: "Schedule a message" });
    await dialog.getByLabel("Message", { exact: true }).fill(`Later ${MARKERS.scheduled}`);
    // A time in the past: the error is at the field.
    const local = (ms: number) => page.evaluate((at) => {
      const d = new Date(at);
      const p = (n: number) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, ms);
    await dialog.getByLabel("Send at", { exact: true }).fill(await local(Date.now() - 60_000));
    await dialog.getByRole("button", { name: "Schedule", exact: true }).click();
    await dialog.getByText("Pick a time in the future.").waitFor(WAIT);
    expect(await dialog.getByLabel("Send at", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    await dialog.getByText(/People who join the channel before it is sent/).waitFor(WAIT);
    await dialog.getByLabel("Send at", { exact: true }).fill(await local(Date.now() + 120_000));
    await dialog.getByRole("button", { name: "Schedule", exact: true }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
    const pending = await call((await signIn(ctx, alice)).headers, "GET", "/api/scheduled");
    expect(pending.scheduled.map((s: { status: string }) => s.status)).toEqual(["pending"]);
    serverSkewMs = 121_000; // now it is due
    stopJobs = startMessageJobs(ctx.deps, 200);
    await seesDecrypted(bobS, MARKERS.scheduled);
    await seesDecrypted(aliceS, MARKERS.scheduled); // her own device: key archived under the client id
    expect(await bobS.page.locator(".msg", { hasText: MARKERS.scheduled }).count()).toBe(1);
    // The list shows it as sent, with its decrypted text.
    await page.getByRole("button", { name: "Scheduled", exact: true }).click();
    const list = page.getByRole("dialog", { name: "Scheduled messages" });
    await list.locator(".side-list__item", { hasText: MARKERS.scheduled }).locator(".side-list__meta", { hasText: "Sent" }).waitFor(WAIT);
    await list.getByRole("button", { name: "Done" }).click();
  });

  test("Bob bookmarks a message with a private note; the list shows the text and the note; remove works", async () => {
    const row = bobS.page.locator(".msg", { hasText: first });
    await openBookmarkDialog(row);
    const dialog = bobS.page.getByRole("dialog", { name: "Bookmark message" });
    await dialog.getByLabel("Note (optional)").fill(`remember ${MARKERS.note}`);
    await dialog.getByRole("button", { name: "Save bookmark" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
    // A second bookmark of the same message: the server's answer shows in the dialog.
    await openBookmarkDialog(row);
    await dialog.getByRole("button", { name: "Save bookmark" }).click();
    await dialog.getByText("already bookmarked").waitFor(WAIT);
    // …and offers to edit that bookmark's note instead, prefilled with it.
    await dialog.getByRole("button", { name: "Save note" }).waitFor(WAIT);
    expect(await dialog.getByRole("textbox").inputValue()).toBe(`remember ${MARKERS.note}`);
    await dialog.getByRole("button", { name: "Cancel" }).click();

    await bobS.page.getByRole("button", { name: "Bookmarks", exact: true }).click();
    const list = bobS.page.getByRole("dialog", { name: "Bookmarks" });
    const item = list.locator(".side-list__item", { hasText: first });
    await item.locator(".side-list__note", { hasText: `Note: remember ${MARKERS.note}` }).waitFor(WAIT);
    await bobS.page.setViewportSize(PHONE);
    await screenshot(bobS.page, "chat-extras-bookmarks-360");
    await bobS.page.setViewportSize(DESKTOP);
    await item.getByRole("button", { name: "Remove bookmark" }).click();
    await item.waitFor({ state: "detached", ...WAIT });
    const left = await call(bobHeaders, "GET", "/api/bookmarks");
    expect(left.bookmarks).toEqual([]);
    await list.getByRole("button", { name: "Done" }).click();
    // Bookmark again (for the database scan below).
    await openBookmarkDialog(row);
    await dialog.getByLabel("Note (optional)").fill(`again ${MARKERS.note}`);
    await dialog.getByRole("button", { name: "Save bookmark" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
  });

  test("Bob edits his note from the Bookmarks list, then through a repeated Bookmark; the list shows each new note", async () => {
    const before = (await call(bobHeaders, "GET", "/api/bookmarks")).bookmarks[0].note_ciphertext;
    await bobS.page.getByRole("button", { name: "Bookmarks", exact: true }).click();
    const list = bobS.page.getByRole("dialog", { name: "Bookmarks" });
    const item = list.locator(".side-list__item", { hasText: first });
    await item.locator(".side-list__note", { hasText: `Note: again ${MARKERS.note}` }).waitFor(WAIT);
    await item.getByRole("button", { name: "Edit bookmark note" }).click();
    const edit = bobS.page.getByRole("dialog", { name: "Edit bookmark note" });
    const box = edit.getByRole("textbox");
    await box.waitFor(WAIT);
    expect(await box.inputValue()).toBe(`again ${MARKERS.note}`);
    await box.fill(`edited ${MARKERS.noteEdited}`);
    await edit.getByRole("button", { name: "Save note" }).click();
    await edit.waitFor({ state: "detached", ...WAIT });
    await item.locator(".side-list__note", { hasText: `Note: edited ${MARKERS.noteEdited}` }).waitFor(WAIT);
    const after = (await call(bobHeaders, "GET", "/api/bookmarks")).bookmarks[0].note_ciphertext;
    expect(after).not.toBe(before);
    expect(after).not.toContain(MARKERS.noteEdited);
    await list.getByRole("button", { name: "Done" }).click();

    // From the message menu again: the server's 409 turns the dialog into editing that note.
    const row = bobS.page.locator(".msg", { hasText: first });
    await openBookmarkDialog(row);
    const dialog = bobS.page.getByRole("dialog", { name: "Bookmark message" });
    await dialog.getByLabel("Note (optional)").fill(`replaced ${MARKERS.noteReplaced}`);
    await dialog.getByRole("button", { name: "Save bookmark" }).click();
    await dialog.getByText("already bookmarked").waitFor(WAIT);
    expect(await dialog.getByRole("textbox").inputValue()).toBe(`replaced ${MARKERS.noteReplaced}`);
    await dialog.getByRole("button", { name: "Save note" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
    await bobS.page.getByRole("button", { name: "Bookmarks", exact: true }).click();
    await item.locator(".side-list__note", { hasText: `Note: replaced ${MARKERS.noteReplaced}` }).waitFor(WAIT);
    await list.getByRole("button", { name: "Done" }).click();
    expect((await call(bobHeaders, "GET", "/api/bookmarks")).bookmarks).toHaveLength(1);
  });

  test("a send refused once with 503 is resent automatically with the same client id and appears once", async () => {
    let refused = 0;
    const seenClientIds: string[] = [];
    await aliceS.page.route(/\/api\/channels\/[^/]+\/messages$/, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      seenClientIds.push((route.request().postDataJSON() as { client_id: string }).client_id);
      if (refused++ === 0) return route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "UNAVAILABLE", message: "Service unavailable." } }) });
      return route.continue();
    });
    await aliceS.page.locator("#composer-input").fill(`resend ${MARKERS.resent}`);
    await aliceS.page.locator("#composer-input").press("Enter");
    await sent(aliceS, MARKERS.resent);
    await seesDecrypted(bobS, MARKERS.resent);
    expect(refused).toBe(2);
    expect(new Set(seenClientIds).size).toBe(1);
    for (const s of [aliceS, bobS]) expect(await s.page.locator(".msg", { hasText: MARKERS.resent }).count()).toBe(1);
    await aliceS.page.unrouteAll({ behavior: "ignoreErrors" });
  });

  test("a refusal (403) is not resent: the row stays failed with the server's message and a Retry button", async () => {
    await aliceS.page.route(/\/api\/channels\/[^/]+\/messages$/, (route) =>
      route.request().method() === "POST"
        ? route.fulfill({ status: 403, contentType: "application/json", body: JSON.stringify({ error: { code: "TIMED_OUT", message: "You are timed out in this community." } }) })
        : route.continue(),
    );
    const text = `refused ${RUN}`;
    await aliceS.page.locator("#composer-input").fill(text);
    await aliceS.page.locator("#composer-input").press("Enter");
    const row = aliceS.page.locator(".msg.msg--failed", { hasText: text });
    await row.locator(".msg__status", { hasText: "You are timed out in this community." }).waitFor(WAIT);
    expect(await row.locator(".msg__status").textContent()).not.toContain("Retrying");
    await aliceS.page.unrouteAll({ behavior: "ignoreErrors" });
    await row.getByRole("button", { name: "Retry" }).click();
    await sent(aliceS, text);
    await seesDecrypted(bobS, text);
  });

  test("Bob blocks Alice: her channel messages are collapsed with a Show toggle", async () => {
    await call(bobHeaders, "POST", "/api/users/blocks", { user_id: alice.id });
    await openChat(bobS, channelPath);
    const row = bobS.page.locator(".msg", { hasText: "Message from a blocked user" }).first();
    await row.waitFor(WAIT);
    const text = row.locator(".msg__text");
    expect(await text.isVisible()).toBe(false);
    const show = row.getByRole("button", { name: "Show" });
    expect(await show.getAttribute("aria-expanded")).toBe("false");
    await show.focus();
    await bobS.page.keyboard.press("Enter");
    expect(await text.isVisible()).toBe(true);
    expect(await row.getByRole("button", { name: "Hide" }).getAttribute("aria-expanded")).toBe("true");
    await call(bobHeaders, "DELETE", `/api/users/blocks/${alice.id}`);
    // Refusals this test provoked (503, 403, 409) are logged by Chromium as failed loads; nothing else.
    for (const s of [aliceS, bobS]) expect(s.problems.all().filter((p) => !/Failed to load resource: the server responded with a status of (503|403|409)/.test(p))).toEqual([]);
  });

  test("no poll, note, scheduled or resent plaintext in the database or the data directories", async () => {
    const polls = await sql<{ n: number }>`select count(*)::int as n from polls`.execute(ctx.database.db);
    expect(polls.rows[0]!.n).toBe(21);
    const notes = await sql<{ n: number }>`select count(*)::int as n from message_bookmarks where note_ciphertext is not null`.execute(ctx.database.db);
    expect(notes.rows[0]!.n).toBe(1);
    const control = `CTRL-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-extras-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    const { hits, controlFoundIn, rows, scannedBytes } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: Object.values(MARKERS), control, pglite, pgliteDir });
    console.log(`plaintext scan: ${Object.keys(MARKERS).length} markers over ${rows} rows and ${(scannedBytes / 1e6).toFixed(1)} MB: ${hits.length} hits`);
    expect(hits).toEqual([]);
    expect(controlFoundIn.has("table")).toBe(true);
    if (!TEST_DATABASE_URL) expect(controlFoundIn.has("pglite")).toBe(true);
  });
});

/** Keyboard only: "More…" (Enter opens the list), then "Bookmark message" (Enter opens the dialog). */
async function openBookmarkDialog(row: Locator): Promise<void> {
  const more = row.getByRole("button", { name: "More actions" });
  await more.focus();
  await more.press("Enter");
  await row.getByRole("button", { name: "Bookmark message" }).focus();
  await row.page().keyboard.press("Enter");
}
