// Issue 11 acceptance in Chromium (each person their own browser context: own IndexedDB, own
// E2EE device; cookie sign-in; the real server): the Frank/Olivia/Bob scenario in two and three
// contexts — nobody reloads, Frank reads what is said after he joined and the shared history
// before it, the others see his name; shared history with nobody online appears once a member
// comes online; a `joined` channel says "sent before you joined" and no key for those messages
// reaches the joiner's device; the plaintext scan covers the database, the data directories,
// the server's log and every to-device payload the browsers sent or fetched.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sql } from "kysely";
import type { PGlite } from "@electric-sql/pglite";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { apiCaller, openSignedIn, seesDecrypted as seesDecryptedOn, type ApiCall } from "../helpers/chat-e2e.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { createUser, signIn, type TestUser } from "../helpers/users.ts";

// Every browser step has its own generous bound (WAIT: the box is shared and slow); the test
// budget only has to exceed the sum.
setDefaultTimeout(300_000);
const WAIT = { timeout: 60_000 };

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
const markers: string[] = [];
/** A message text that is also a plaintext marker the scan looks for. */
const say$ = (name: string) => {
  const text = `LIVEKEYS-${name}-${RUN}`;
  markers.push(text);
  return text;
};

let ctx: TestContext;
let base = "";
let call: ApiCall;
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDir = () => {};
const opened: BrowserContext[] = [];
/** Every to-device body a browser posted and every to-device answer it fetched (ciphertexts). */
const toDeviceTraffic: string[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-live-keys");
  ({ pglite, pgliteDir } = inspectable);
  removeDir = inspectable.removeDir;
  ctx = await createTestContext({ database: inspectable.database, env: { COMMUNITY_CREATION_MODE: "anyone" }, captureLogs: true });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  call = apiCaller(ctx);
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
  removeDir();
});

type Person = { user: TestUser; headers: Record<string, string>; context: BrowserContext; page: Page; problems: PageProblems; navigations: () => number; refusals: string[] };

async function person(name: string): Promise<Person> {
  const user = await createUser(ctx, { displayName: name });
  const { headers } = await signIn(ctx, user);
  const { context, page, problems } = await openSignedIn(browser!, ctx, base, user, { track: opened });
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  page.on("request", (r) => {
    if (r.url().includes("/api/e2ee/to-device") && r.method() === "POST") toDeviceTraffic.push(r.postData() ?? "");
  });
  const refusals: string[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/api/e2ee/to-device?") && r.request().method() === "GET") void r.text().then((t) => toDeviceTraffic.push(t)).catch(() => {});
    if (r.status() === 409) refusals.push(new URL(r.url()).pathname);
  });
  return { user, headers, context, page, problems, navigations: () => navigations, refusals };
}

/** A new page in the person's browser (same IndexedDB, so the same device) after the old one closed. */
async function reopen(p: Person): Promise<void> {
  p.page = await p.context.newPage();
  p.page.on("request", (r) => {
    if (r.url().includes("/api/e2ee/to-device") && r.method() === "POST") toDeviceTraffic.push(r.postData() ?? "");
  });
}

async function openChat(p: Person, path: string): Promise<void> {
  const response = await p.page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  await p.page.waitForSelector("[data-chat-ready]", WAIT).catch(async (error) => {
    const state = await p.page.evaluate(() => ({ error: document.querySelector<HTMLElement>("[data-chat-channel]")?.dataset.chatError, status: document.querySelector("[data-chat-status]")?.textContent }));
    throw new Error(`chat did not start on ${path}: ${JSON.stringify(state)} ${JSON.stringify(p.problems.all())} ${error}`);
  });
}

async function say(p: Person, text: string): Promise<void> {
  const input = p.page.locator("#composer-input");
  await p.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await input.fill(text);
  await input.press("Enter");
  await p.page.waitForFunction(
    (t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending")),
    text,
    WAIT,
  ).catch(async (error) => {
    const rows = await p.page.evaluate(() => [...document.querySelectorAll(".msg")].map((m) => m.textContent));
    throw new Error(`send of ${text} did not complete: ${JSON.stringify(rows)} ${error}`);
  });
}

const sees = (p: Person, text: string) => seesDecryptedOn(p.page, text, WAIT);

/** The author shown above a message's group. */
async function authorOf(p: Person, text: string): Promise<string> {
  return p.page.locator(".msg-group", { has: p.page.locator(".msg", { hasText: text }) }).locator(".msg-group__author").first().innerText();
}

async function statsOf(p: Person): Promise<Record<string, number>> {
  return JSON.parse((await p.page.evaluate(() => document.documentElement.dataset.e2eeStats)) ?? "{}");
}

async function community(owner: Person, name: string): Promise<{ id: string; groupId: string; invite: string }> {
  const c = await call(owner.headers, "POST", "/api/communities", { name });
  const groups = await call(owner.headers, "GET", `/api/communities/${c.id}/groups`);
  const invite = await call(owner.headers, "POST", `/api/communities/${c.id}/invites`, {});
  return { id: c.id, groupId: groups.groups[0].id, invite: invite.code };
}

async function channel(owner: Person, c: { id: string; groupId: string }, name: string, history?: "joined"): Promise<string> {
  const ch = await call(owner.headers, "POST", `/api/groups/${c.groupId}/channels`, { name });
  if (history) await call(owner.headers, "PATCH", `/api/channels/${ch.id}`, { history_visibility: history });
  return `/c/${c.id}/ch/${ch.id}`;
}

const join = (p: Person, invite: string) => call(p.headers, "POST", `/api/community-invites/${invite}/accept`);

describe.skipIf(!browser)("live key distribution, shared history and honest states in Chromium", () => {
  test("two contexts: Frank joins while Olivia's page is open; he reads her messages before and after, she sees his name; nobody reloads", async () => {
    const olivia = await person("Olivia");
    const frank = await person("Frank");
    const c = await community(olivia, "Two");
    const dev = await channel(olivia, c, "dev");
    await openChat(olivia, dev);
    const before = say$("two-olivia-before");
    await say(olivia, before);
    await join(frank, c.invite);
    await openChat(frank, dev);
    // Olivia's open tab heard viewers:changed and gave Frank's new device her key on its own…
    await olivia.page.waitForFunction(() => (JSON.parse(document.documentElement.dataset.e2eeStats ?? "{}").distributionsSent ?? 0) >= 1, undefined, WAIT);
    const after = say$("two-olivia-after");
    await say(olivia, after);
    await sees(frank, after);
    // …so her next send went through at once, without a VIEWERS_CHANGED refusal first.
    expect(olivia.refusals).toEqual([]);
    await sees(frank, before); // shared history: Olivia's device forwarded the key
    const hello = say$("two-frank-hello");
    await say(frank, hello);
    await sees(olivia, hello);
    expect(await authorOf(olivia, hello)).toBe("Frank");
    expect(olivia.navigations()).toBe(1);
    expect(await olivia.page.locator(".msg[data-state='failed'], .msg[data-state='waiting']").count()).toBe(0);
    for (const p of [olivia, frank]) expect(p.problems.all()).toEqual([]);
  });

  test("three contexts: Olivia and Bob keep chatting without reloading; Frank reads everything after and before he joined; they see his name", async () => {
    const olivia = await person("Olivia");
    const bob = await person("Bob");
    const frank = await person("Frank");
    const c = await community(olivia, "Three");
    await join(bob, c.invite);
    const dev = await channel(olivia, c, "dev");
    await openChat(olivia, dev);
    await openChat(bob, dev);
    const o1 = say$("three-o1");
    const b1 = say$("three-b1");
    await say(olivia, o1);
    await sees(bob, o1);
    await say(bob, b1);
    await sees(olivia, b1);
    await join(frank, c.invite);
    await openChat(frank, dev);
    const o2 = say$("three-o2");
    const b2 = say$("three-b2");
    await say(olivia, o2);
    await say(bob, b2);
    for (const t of [o2, b2, o1, b1]) await sees(frank, t);
    const f1 = say$("three-f1");
    await say(frank, f1);
    await sees(olivia, f1);
    await sees(bob, f1);
    expect(await authorOf(olivia, f1)).toBe("Frank");
    expect(await authorOf(bob, f1)).toBe("Frank");
    expect(await authorOf(frank, b2)).toBe("Bob");
    expect([olivia.navigations(), bob.navigations()]).toEqual([1, 1]);
    await frank.page.getByText("History shared").waitFor(WAIT);
    await screenshot(frank.page, "live-keys-frank-three-contexts");
    for (const p of [olivia, bob, frank]) expect(p.problems.all()).toEqual([]);
  });

  test("shared history with no member online: the joiner is told whom it waits for, and it appears once a member comes online", async () => {
    const olivia = await person("Olivia");
    const jo = await person("Jo");
    const c = await community(olivia, "Quiet");
    const quiet = await channel(olivia, c, "quiet");
    await openChat(olivia, quiet);
    const q1 = say$("quiet-1");
    const q2 = say$("quiet-2");
    await say(olivia, q1);
    await say(olivia, q2);
    await olivia.page.close(); // Olivia goes offline (her browser keeps its device)
    await join(jo, c.invite);
    await openChat(jo, quiet);
    await jo.page.locator(".msg[data-state='waiting']", { hasText: "Waiting for the key from Olivia's device" }).first().waitFor(WAIT);
    await jo.page.getByRole("button", { name: "Retry" }).first().waitFor(WAIT);
    // Asked, and told why it takes a while (the notice is refreshed while it waits).
    await jo.page.locator(".msg[data-state='waiting']", { hasText: /asked \d+ s ago\)\. Nobody who has it is online; it will appear when one of them comes online\./ }).first().waitFor(WAIT);
    // While the request waits in Olivia's queue, nothing in the database reads as plaintext.
    const mid = await scan();
    expect(mid.hits).toEqual([]);
    await screenshot(jo.page, "live-keys-waiting-for-olivia");
    await reopen(olivia);
    await openChat(olivia, quiet);
    await sees(jo, q1);
    await sees(jo, q2);
    expect(jo.navigations()).toBe(1);
  });

  test("a `joined` channel: earlier messages say so, later ones read; no key for the earlier ones reaches the joiner's device", async () => {
    const olivia = await person("Olivia");
    const jay = await person("Jay");
    const c = await community(olivia, "Closed");
    const closed = await channel(olivia, c, "closed", "joined");
    await openChat(olivia, closed);
    const early = say$("closed-early");
    await say(olivia, early);
    await join(jay, c.invite);
    await openChat(jay, closed);
    await jay.page.getByText("History from joining").waitFor(WAIT);
    const late = say$("closed-late");
    await say(olivia, late);
    await sees(jay, late);
    const row = jay.page.locator(".msg[data-state='unavailable']");
    await row.waitFor(WAIT);
    expect(await row.innerText()).toContain("Sent before you joined — this channel does not share history.");
    await screenshot(jay.page, "live-keys-sent-before-you-joined");
    // The to-device traffic of Jay's device: Olivia's sender key, for what came after. At most one
    // key was asked for and forwarded — the later message's, when its text arrived a moment
    // before her key (a slow box) — and the earlier one never opened: no key for it got here.
    const [jayStats, oliviaStats] = [await statsOf(jay), await statsOf(olivia)];
    expect(jayStats.distributionsReceived).toBeGreaterThanOrEqual(1);
    expect(jayStats.keyRequestItems ?? 0).toBeLessThanOrEqual(1);
    expect([jayStats.keysAccepted ?? 0, oliviaStats.keysForwarded ?? 0].every((n) => n <= 1)).toBe(true);
    expect(await jay.page.locator(".msg[data-state='unavailable']").count()).toBe(1);
    expect(await jay.page.locator(".msg[data-state='ok']", { hasText: early }).count()).toBe(0);
  });

  test("the plaintext scan (every table, the dump and data files, DATA_DIR, the server log, every to-device payload) finds no marker", async () => {
    const result = await scan();
    console.log(`plaintext scan: ${result.needles} encodings of ${markers.length} markers over ${result.rows} rows, ${(result.scannedBytes / 1e6).toFixed(1)} MB and ${toDeviceTraffic.length} to-device payloads: ${result.hits.length} hits; control found in ${[...result.controlFoundIn].sort().join(", ")}`);
    expect(result.hits).toEqual([]);
    expect(toDeviceTraffic.length).toBeGreaterThan(10);
    for (const where of ["table", "logs", "to-device"]) expect([where, result.controlFoundIn.has(where)]).toEqual([where, true]);
    if (!TEST_DATABASE_URL) expect(result.controlFoundIn.has("pglite")).toBe(true);
  });
});

async function scan() {
  const control = `CTRL-${RUN}`.padEnd(32, "-");
  await ctx.database.db.insertInto("instance_settings").values({ key: `live-keys-control-${crypto.randomUUID()}`, value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
  ctx.deps.log.info("test.scan_control", { control }); // the log is scanned: the control must show there
  return scanForPlaintext({
    database: ctx.database,
    dataDir: ctx.dataDir,
    markers,
    control,
    pglite,
    pgliteDir,
    logs: ctx.logs,
    extra: [{ what: "to-device payloads", bytes: Buffer.from([...toDeviceTraffic, control].join("\n")) }],
  });
}
