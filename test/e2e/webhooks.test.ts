// Acceptance test for issue 18 §1 (docs/integrations.md): Alice and Bob, each in their own
// Chromium context, have #general open; an outside service posts through the channel's webhook
// (POST /webhook/{token}) content full of hostile HTML and markdown. Both browsers show it live,
// as text (no element the content names exists in the page), with the "Webhook · not E2EE" badge
// next to the webhook's name, and after a reload too (server-rendered history). Alice also sends
// an encrypted message. The database holds only the token's hash; the plaintext scan of the
// database, its files and the server's logs finds exactly the webhook's marker and nothing else.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted } from "../helpers/chat-e2e.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: the webhook browser test needs Chromium (/usr/bin/chromium)");
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const WEBHOOK_MARKER = `WEBHOOK-PLAINTEXT-${RUN}`;
const E2EE_MARKER = `PLAINTEXT-MARKER-E2EE-${RUN}`;
// Hostile: raw HTML, an event handler, a script, markdown links and images, a mention.
const HOSTILE = `<img src=x id=pwned onerror="document.title='pwned'"><script>document.title='pwned2'</script> **bold** [x](javascript:alert(1)) ![i](https://example.invalid/i.png) @everyone ${WEBHOOK_MARKER}`;
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDatabaseDir = () => {};
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-webhooks");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  ctx = await createTestContext({ database: inspectable.database, env: { COMMUNITY_CREATION_MODE: "anyone" }, captureLogs: true });
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

type Session = { page: Page; problems: PageProblems };

async function openChat(s: Session, path: string): Promise<void> {
  const response = await s.page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  await s.page.waitForSelector("[data-chat-ready]", WAIT);
}

/** The webhook's row: its text shown literally, the badge in its group's header, nothing hostile in the DOM. */
async function seesWebhookMessage(s: Session): Promise<void> {
  const row = s.page.locator(".msg[data-state='ok']", { hasText: WEBHOOK_MARKER });
  await row.waitFor(WAIT);
  const text = await row.locator(".msg__text").textContent();
  expect(text).toBe(HOSTILE);
  const group = s.page.locator(".msg-group", { has: row });
  await group.locator(".badge", { hasText: "Webhook · not E2EE" }).waitFor(WAIT);
  expect(await group.locator(".msg-group__author").textContent()).toBe("Deploy bot");
  expect(await s.page.locator("#pwned").count()).toBe(0);
  expect(await row.locator("img, script, a, strong").count()).toBe(0);
  expect(await s.page.title()).not.toContain("pwned");
}

describe.skipIf(!browser)("incoming webhook in two browsers", () => {
  test("a webhook post appears live in both browsers, escaped and badged; only its marker is plaintext at rest", async () => {
    const call = apiCaller(ctx);
    const crew = await aliceAndBobInCommunity(ctx, call, "Webhook crew");
    const channelId = crew.group.channels[0]!.id;
    const hook = await call(crew.aliceHeaders, "POST", `/api/channels/${channelId}/webhooks`, { name: "CI" });
    const alice: Session = await openSignedIn(browser!, ctx, base, crew.alice, { track: opened });
    const bob: Session = await openSignedIn(browser!, ctx, base, crew.bob, { track: opened });
    await openChat(alice, crew.channelPath);
    await openChat(bob, crew.channelPath);

    // An encrypted message first, so the scan has a marker that must NOT be found.
    const input = alice.page.locator("#composer-input");
    await alice.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
    await input.fill(`secret ${E2EE_MARKER}`);
    await input.press("Enter");
    await seesDecrypted(bob.page, E2EE_MARKER, WAIT);

    const posted = await fetch(`${base}/webhook/${hook.token}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content: HOSTILE, username: "Deploy bot" }) });
    expect(posted.status).toBe(201);
    await seesWebhookMessage(alice);
    await seesWebhookMessage(bob);
    await screenshot(bob.page, "webhook-message-bob-desktop");

    // After a reload: the server-rendered history, adopted by the client, shows the same.
    await openChat(bob, crew.channelPath);
    await seesWebhookMessage(bob);
    await seesDecrypted(bob.page, E2EE_MARKER, WAIT);
    // The thread panel (issue 18 §4): the webhook root shows escaped, with the badge in its header.
    const mainRow = bob.page.locator("#messages .msg", { hasText: WEBHOOK_MARKER });
    await mainRow.hover();
    await mainRow.getByRole("button", { name: "Reply in thread" }).click();
    const panel = bob.page.getByRole("dialog", { name: "Thread" });
    await panel.waitFor(WAIT);
    const panelRow = panel.locator(".msg[data-state='ok']", { hasText: WEBHOOK_MARKER });
    await panelRow.waitFor(WAIT);
    expect(await panelRow.locator(".msg__text").textContent()).toBe(HOSTILE);
    expect(await panelRow.locator("img, script, a, strong").count()).toBe(0);
    const panelGroup = panel.locator(".msg-group", { has: bob.page.locator(".msg[data-state='ok']", { hasText: WEBHOOK_MARKER }) });
    await panelGroup.locator(".badge", { hasText: "Webhook · not E2EE" }).waitFor(WAIT);
    expect(await panelGroup.locator(".msg-group__author").textContent()).toBe("Deploy bot");
    expect(await bob.page.locator("#pwned").count()).toBe(0);
    await screenshot(bob.page, "webhook-thread-panel-bob-desktop");
    await bob.page.keyboard.press("Escape");
    expect(alice.problems.all()).toEqual([]);
    expect(bob.problems.all()).toEqual([]);

    // Only the token's SHA-256 is stored.
    const row = await ctx.database.db.selectFrom("webhooks").select("token_hash").where("id", "=", hook.id).executeTakeFirstOrThrow();
    expect(Buffer.from(row.token_hash).toString("hex")).toBe(new Bun.CryptoHasher("sha256").update(hook.token).digest("hex"));

    // The scan: the webhook's marker is found (the one plaintext path), the E2EE marker and the token nowhere.
    const control = `CTRL-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-webhook-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    ctx.deps.log.info("test.scan_control", { control });
    const { hits, controlFoundIn } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: [WEBHOOK_MARKER, E2EE_MARKER, hook.token], control, pglite, pgliteDir, logs: ctx.logs });
    console.log(`plaintext scan: ${hits.length} hits (${[...new Set(hits.map((h) => h.split(": ")[1]!.split(" ")[0]))].join(", ")}); control found in ${[...controlFoundIn].sort().join(", ")}`);
    expect(controlFoundIn.has("table")).toBe(true);
    expect(controlFoundIn.has("logs")).toBe(true);
    if (!TEST_DATABASE_URL) expect(controlFoundIn.has("pglite")).toBe(true);
    expect(hits.some((h) => h.startsWith("table messages: ") && h.includes(WEBHOOK_MARKER))).toBe(true);
    expect(hits.filter((h) => !h.includes(WEBHOOK_MARKER))).toEqual([]);
  });
});
