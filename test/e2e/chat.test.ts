// Acceptance test for issue 6 §3/§4 (client side): Alice and Bob, each in their own Chromium
// context (own IndexedDB, cookie sign-in), open the real channel page and a DM of the real
// server. The chat bundle creates and registers each browser's E2EE device, encrypts in the page
// (Sender Keys in the channel, a pairwise envelope in the DM), sends over HTTP with a client id,
// and the other side decrypts live from the WebSocket hub. Bob reloads and still reads the
// history (message-key archive in the encrypted IndexedDB store). Finally the whole database and
// the data directories are scanned for the plaintext markers: none may appear.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import type { Browser, BrowserContext, Page, WebSocketRoute } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { collectProblems, launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted as seesDecryptedOn } from "../helpers/chat-e2e.ts";
import { cookieSignIn, type TestUser } from "../helpers/users.ts";

// Browser steps use bounded waits of their own (WAIT); the test budget only has to exceed them.
setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const MARKERS = {
  channelAlice: `PLAINTEXT-MARKER-CH-ALICE-${RUN}`,
  channelBob: `PLAINTEXT-MARKER-CH-BOB-${RUN}`,
  dmAlice: `PLAINTEXT-MARKER-DM-ALICE-${RUN}`,
  dmBob: `PLAINTEXT-MARKER-DM-BOB-${RUN}`,
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
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-chat");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  const database = inspectable.database;
  ctx = await createTestContext({ database, env: { COMMUNITY_CREATION_MODE: "anyone" }, captureLogs: true });
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

type Session = { context: BrowserContext; page: Page; problems: PageProblems; notFound: string[]; sockets: WebSocketRoute[] };


async function openAs(user: TestUser): Promise<Session> {
  // Every /ws connection passes through the test (to the real server), so a test can drop it.
  const sockets: WebSocketRoute[] = [];
  const { context, page, problems } = await openSignedIn(browser!, ctx, base, user, {
    track: opened,
    viewport: DESKTOP,
    beforePage: (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        sockets.push(ws);
        ws.connectToServer();
      }),
  });
  const notFound: string[] = [];
  page.on("response", (r) => {
    if (r.status() === 404) notFound.push(new URL(r.url()).pathname);
  });
  return { context, page, problems, notFound, sockets };
}

async function openChat(s: Session, path: string): Promise<void> {
  const response = await s.page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
  await s.page.waitForSelector("[data-chat-ready]", WAIT).catch(async (error) => {
    const state = await s.page.evaluate(() => ({ error: document.querySelector<HTMLElement>("[data-chat-channel]")?.dataset.chatError, status: document.querySelector("[data-chat-status]")?.textContent }));
    throw new Error(`chat did not start on ${path}: ${JSON.stringify(state)} ${JSON.stringify(s.problems.all())} ${error}`);
  });
}

async function say(s: Session, text: string, marker: string): Promise<void> {
  const input = s.page.locator("#composer-input");
  await input.waitFor({ state: "visible" });
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await input.fill(text);
  await input.press("Enter");
  // Our own row: pending, then sent (it has a server id) — never failed.
  await s.page.waitForFunction(
    (t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending")),
    marker,
    WAIT,
  ).catch(async (error) => {
    const rows = await s.page.evaluate(() => [...document.querySelectorAll(".msg")].map((m) => m.textContent));
    throw new Error(`send of ${text} did not complete: ${JSON.stringify(rows)} ${error}`);
  });
}

/** Waits until `text` shows decrypted in a message row (not in the composer or a notice). */
const seesDecrypted = (s: Session, text: string) => seesDecryptedOn(s.page, text, WAIT);

describe.skipIf(!browser)("encrypted chat in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceS: Session;
  let bobS: Session;
  let channelPath = "";
  let dmPath = "";
  let randomPath = "";

  test("Alice and Bob exchange channel messages (Sender Keys) and both read them decrypted", async () => {
    const call = apiCaller(ctx);
    const crew = await aliceAndBobInCommunity(ctx, call, "Hearth crew");
    ({ alice, bob, channelPath } = crew);
    const random = await call(crew.aliceHeaders, "POST", `/api/groups/${crew.group.id}/channels`, { name: "random" });
    randomPath = `/c/${crew.communityId}/ch/${random.id}`;
    const dm = await call(crew.aliceHeaders, "POST", "/api/dms", { user_id: bob.id });
    dmPath = `/dms/${dm.channel_id}`;

    aliceS = await openAs(alice);
    bobS = await openAs(bob);
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);

    await say(aliceS, `Hello **team** ${MARKERS.channelAlice}`, MARKERS.channelAlice);
    await seesDecrypted(bobS, MARKERS.channelAlice);
    // Markdown went through the sanitiser: bold is a <strong>, not literal asterisks.
    expect(await bobS.page.locator(".msg[data-state='ok'] .msg__text strong", { hasText: "team" }).count()).toBe(1);
    await say(bobS, `Hi Alice ${MARKERS.channelBob}`, MARKERS.channelBob);
    await seesDecrypted(aliceS, MARKERS.channelBob);
    await seesDecrypted(aliceS, MARKERS.channelAlice); // own message stays readable
    // Each message once on each side.
    for (const s of [aliceS, bobS]) {
      for (const m of [MARKERS.channelAlice, MARKERS.channelBob]) {
        expect(await s.page.locator(".msg", { hasText: m }).count()).toBe(1);
      }
    }
    await screenshot(bobS.page, "chat-channel-bob-desktop");
  });

  test("Alice edits her channel message from the message menu; Bob sees the new text decrypted", async () => {
    const edited = `edited ${MARKERS.channelAlice}`;
    const row = aliceS.page.locator(".msg", { hasText: MARKERS.channelAlice });
    await row.hover();
    // Edit sits behind "More…" (the frequent actions are inline).
    await row.getByRole("button", { name: "More actions" }).click();
    await row.getByRole("button", { name: "Edit message" }).click();
    const editor = aliceS.page.getByRole("textbox", { name: "Edit message" });
    await editor.fill(edited);
    await editor.press("Enter");
    await seesDecrypted(aliceS, edited);
    await seesDecrypted(bobS, edited);
    await bobS.page.locator(".msg", { hasText: edited }).locator(".msg__edited").waitFor(WAIT);
    // Bob reacts and replies from the same menu; Alice sees both live.
    const bobRow = bobS.page.locator(".msg", { hasText: edited });
    await bobRow.hover();
    await bobRow.getByRole("button", { name: "React with thumbs up" }).click();
    await aliceS.page.locator(".msg", { hasText: edited }).locator(".reaction", { hasText: "1" }).waitFor(WAIT);
    await bobRow.hover();
    await bobRow.getByRole("button", { name: "Reply to message" }).click();
    const reply = `a reply ${RUN}`;
    await say(bobS, reply, reply);
    await seesDecrypted(aliceS, reply);
    await aliceS.page.locator(".msg", { hasText: reply }).locator(".msg__reply", { hasText: "Replying to Alice" }).waitFor(WAIT);
    // The edit replaced the message on both sides: one message reads the new text, none the old.
    for (const session of [aliceS, bobS]) {
      expect(await session.page.locator(".msg__text", { hasText: edited }).count()).toBe(1);
      expect(await session.page.locator(".msg__text", { hasText: "Hello team" }).count()).toBe(0);
    }
  });

  test("a second tab of Bob's browser shares the device: both tabs read, and the second tab can send", async () => {
    const tab2Page = await bobS.context.newPage();
    const tab2: Session = { ...bobS, page: tab2Page, problems: await collectProblems(tab2Page), notFound: [] };
    await openChat(tab2, channelPath);
    const fromAlice = `two tabs ${RUN}`;
    await say(aliceS, fromAlice, fromAlice);
    await seesDecrypted(bobS, fromAlice);
    await seesDecrypted(tab2, fromAlice);
    const fromTab2 = `from tab two ${RUN}`;
    await say(tab2, fromTab2, fromTab2);
    await seesDecrypted(aliceS, fromTab2);
    await seesDecrypted(bobS, fromTab2); // the first tab reads its own device's message too
    const fromTab1 = `from tab one ${RUN}`;
    await say(bobS, fromTab1, fromTab1);
    await seesDecrypted(aliceS, fromTab1);
    expect(tab2.problems.all()).toEqual([]);
    await tab2Page.close();
  });

  test("activity in another channel marks it unread in the sidebar; following the link opens it decrypted", async () => {
    // Alice stays in #general; Bob posts in #random.
    await openChat(bobS, randomPath);
    const text = `in random ${RUN}`;
    await say(bobS, text, text);
    const link = aliceS.page.locator(`a.channel[href="${randomPath}"]`);
    await aliceS.page.locator(`a.channel.channel--unread[href="${randomPath}"]`).waitFor(WAIT);
    await screenshot(aliceS.page, "chat-sidebar-unread");
    await link.click(); // boosted navigation: app.js mounts the chat again after the swap
    await aliceS.page.waitForURL(`${base}${randomPath}`, WAIT);
    await aliceS.page.waitForSelector(`[data-chat-channel="${randomPath.split("/").pop()}"][data-chat-ready]`, WAIT);
    await seesDecrypted(aliceS, text);
    expect(await aliceS.page.locator(`a.channel.channel--unread[href="${randomPath}"]`).count()).toBe(0);
  });

  test("they exchange DMs (pairwise envelopes, the sender's own copy included)", async () => {
    await openChat(aliceS, dmPath);
    await openChat(bobS, dmPath);
    await say(aliceS, `Psst ${MARKERS.dmAlice}`, MARKERS.dmAlice);
    await seesDecrypted(bobS, MARKERS.dmAlice);
    await say(bobS, `Got it ${MARKERS.dmBob}`, MARKERS.dmBob);
    await seesDecrypted(aliceS, MARKERS.dmBob);
    await screenshot(aliceS.page, "chat-dm-alice-desktop");
  });

  test("Bob reloads: the DM and channel history still decrypt; screenshots at 360 px", async () => {
    // The server renders the history's structure with ciphertexts, and no plaintext.
    const { headers } = await cookieSignIn(ctx, bob);
    for (const path of [dmPath, channelPath]) {
      const html = await (await ctx.request(path, { headers })).text();
      expect(html.match(/data-ciphertext="/g)?.length).toBe(path === dmPath ? 2 : 6);
      expect(html).toContain('data-scheme="' + (path === dmPath ? "pw" : "sk") + '"');
      for (const marker of Object.values(MARKERS)) expect(html).not.toContain(marker);
    }
    await bobS.page.reload({ waitUntil: "load" });
    await bobS.page.waitForSelector("[data-chat-ready]", WAIT);
    await seesDecrypted(bobS, MARKERS.dmAlice);
    await seesDecrypted(bobS, MARKERS.dmBob); // his own pairwise message: from the archive
    await openChat(bobS, channelPath);
    await seesDecrypted(bobS, MARKERS.channelAlice);
    await seesDecrypted(bobS, MARKERS.channelBob);
    await bobS.page.locator(".msg", { hasText: `a reply ${RUN}` }).locator(".msg__reply", { hasText: "Replying to Alice: edited" }).waitFor(WAIT);
    await bobS.page.setViewportSize(PHONE);
    await screenshot(bobS.page, "chat-channel-bob-360");
    await aliceS.page.setViewportSize(PHONE);
    await screenshot(aliceS.page, "chat-dm-alice-360");
    // Nothing overflows sideways at 360 px.
    expect(await bobS.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    for (const s of [aliceS, bobS]) {
      expect(s.notFound).toEqual([]);
      expect(s.problems.all()).toEqual([]);
    }
  });

  test("reconnect: Bob's socket drops, Alice sends 50 messages, Bob catches up with all 50 once, in order", async () => {
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);
    // Drop Bob's socket and keep it down (his reconnect attempts are refused) while Alice sends.
    await bobS.context.routeWebSocket(/\/ws$/, (ws) => ws.close({ code: 1011, reason: "test: server unreachable" }));
    for (const ws of bobS.sockets) await ws.close({ code: 1001, reason: "test: dropped" }).catch(() => {});
    await bobS.page.waitForSelector("[data-chat-status]:not([hidden])", WAIT); // "Reconnecting…"
    const burst = Array.from({ length: 50 }, (_, i) => `burst ${String(i + 1).padStart(2, "0")} ${RUN}`);
    for (const text of burst) await say(aliceS, text, text);
    await bobS.context.unrouteAll({ behavior: "ignoreErrors" });
    await bobS.context.routeWebSocket(/\/ws$/, (ws) => {
      bobS.sockets.push(ws);
      ws.connectToServer();
    });
    expect(await bobS.page.locator(".msg", { hasText: burst[0]! }).count()).toBe(0); // nothing arrived while down
    // Bob's next attempt may be a whole backoff away (at most 30 s, src/client/ws.ts), and a
    // loaded machine sends the burst slowly enough to reach it: wait past it, then the catch-up.
    await seesDecryptedOn(bobS.page, burst[49]!, { timeout: 75_000 });
    const seen = await bobS.page.evaluate((run) => [...document.querySelectorAll<HTMLElement>(".msg[data-state='ok'] .msg__text")].map((m) => m.textContent ?? "").filter((t) => t.includes(run) && t.startsWith("burst")), RUN);
    expect(seen).toEqual(burst);
  }, 180_000);

  test("after a reload the page shows the last 50; scrolling up loads the older ones (before_seq)", async () => {
    const { headers } = await cookieSignIn(ctx, bob);
    const html = await (await ctx.request(channelPath, { headers })).text();
    expect(html.match(/data-ciphertext="/g)?.length).toBe(50); // the server renders the newest 50
    await openChat(bobS, channelPath);
    await bobS.page.locator("#pane-body").evaluate((el) => {
      el.scrollTop = -el.scrollHeight; // column-reverse: the top is the most negative scrollTop
      el.dispatchEvent(new Event("scroll"));
    });
    await seesDecrypted(bobS, MARKERS.channelBob);
    await seesDecrypted(bobS, `edited ${MARKERS.channelAlice}`);
    expect(await bobS.page.locator(".msg[data-message-id]").count()).toBe(56);
  });

  test("a new browser of Alice restores history with the recovery key from her key backup", async () => {
    // Alice's first browser creates the backup from the banner; the key is shown once.
    await openChat(aliceS, dmPath);
    await aliceS.page.setViewportSize(DESKTOP);
    await aliceS.page.getByRole("button", { name: "Create key backup" }).click();
    const recoveryKey = (await aliceS.page.locator(".e2ee-banner__key").textContent({ timeout: WAIT.timeout }))!.trim();
    expect(recoveryKey).toMatch(/^([0-9A-Z]{4}-){13}[0-9A-Z]{4}$/);
    await screenshot(aliceS.page, "chat-backup-recovery-key");
    await aliceS.page.getByRole("button", { name: "I saved it" }).click();
    // Nobody who holds these keys is online: otherwise the new device's key requests would heal
    // the history at once (issue 11's key requests) and the recovery prompt would race them.
    await aliceS.page.getByRole("button", { name: "I saved it" }).waitFor({ state: "detached", ...WAIT });
    for (const s of [aliceS, bobS]) await s.page.goto("about:blank");

    const fresh = await openAs(alice);
    await openChat(fresh, dmPath);
    // History from before this device existed: a visible waiting state, not a blank.
    await fresh.page.waitForSelector(".msg[data-state='waiting']", WAIT);
    await fresh.page.getByText("Encrypted history needs your recovery key").waitFor(WAIT);
    await fresh.page.setViewportSize(PHONE);
    await screenshot(fresh.page, "chat-restore-prompt-360");
    await fresh.page.getByLabel("Recovery key").fill(recoveryKey.toLowerCase());
    await fresh.page.getByRole("button", { name: "Restore history" }).click();
    await seesDecrypted(fresh, MARKERS.dmAlice); // sent by her old device
    await seesDecrypted(fresh, MARKERS.dmBob); // received by her old device
    // And the new device takes part at once: Bob's next DM reaches it (and her old browser).
    const next = `after restore ${RUN}`;
    await openChat(bobS, dmPath);
    await say(bobS, next, next);
    await seesDecrypted(fresh, next);
    expect(fresh.notFound.filter((p) => p !== "/api/keys/backup")).toEqual([]);
  });

  test("no plaintext marker anywhere in a full database dump or the data directories", async () => {
    const stored = await sql<{ n: number }>`select count(*)::int as n from messages`.execute(ctx.database.db);
    expect(stored.rows[0]!.n).toBe(60);
    const control = `CTRL-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-chat-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    ctx.deps.log.info("test.scan_control", { control }); // the server's log is scanned too
    const { hits, controlFoundIn: controlHits, rows, scannedBytes, dump, needles } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: Object.values(MARKERS), control, pglite, pgliteDir, logs: ctx.logs });
    if (dump !== null) expect(dump).toContain("COPY public.messages");
    console.log(`plaintext scan: ${needles} encodings of ${Object.keys(MARKERS).length} markers over ${rows} rows and ${(scannedBytes / 1e6).toFixed(1)} MB: ${hits.length} hits; control found in ${[...controlHits].sort().join(", ")}`);
    expect(hits).toEqual([]);
    expect(controlHits.has("table")).toBe(true);
    expect(controlHits.has("logs")).toBe(true);
    if (!TEST_DATABASE_URL) expect(controlHits.has("pglite")).toBe(true);
  });
});
