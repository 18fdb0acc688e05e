// Presence and read receipts in the browser (issue 6 §2): Alice and Bob (own Chromium contexts,
// cookie sign-in) open their DM. Alice's DM list shows Bob online; Bob picks "Do not disturb"
// with the keyboard in the status picker and Alice's dot follows; Alice sends a DM, Bob's open
// page reads it and Alice sees "Seen by Bob" under it.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setPresenceOptions } from "../../../src/features/presence/index.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { launchBrowser, type PageProblems } from "../../helpers/browser.ts";
import { createUser, signIn, type TestUser } from "../../helpers/users.ts";
import { openSignedIn } from "../../helpers/chat-e2e.ts";

setDefaultTimeout(90_000);
const browser: Browser | null = await launchBrowser();
// Wide: a loaded machine is slow, not wrong (a wait only costs its length when something is broken).
const WAIT = { timeout: 30_000 };
let ctx: TestContext;
let base = "";
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  setPresenceOptions(ctx.deps, { graceMs: 300, batchMs: 100 });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});
afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

async function openAs(user: TestUser): Promise<{ page: Page; problems: PageProblems }> {
  return openSignedIn(browser!, ctx, base, user, { track: opened });
}

async function openChat(page: Page, path: string): Promise<void> {
  await page.goto(`${base}${path}`, { waitUntil: "load" });
  await page.waitForSelector("[data-chat-ready]", WAIT);
}

describe.skipIf(!browser)("presence and read receipts in the browser", () => {
  test("DM dot follows Bob's presence; the status picker works by keyboard; Seen by Bob", async () => {
    const alice = await createUser(ctx, { displayName: "Alice" });
    const bob = await createUser(ctx, { displayName: "Bob" });
    const a = await signIn(ctx, alice);
    const b = await signIn(ctx, bob);
    await ctx.request("/api/account/profile", { method: "PUT", headers: b.headers, body: JSON.stringify({ allow_dms_from_anyone: true }) });
    const res = await ctx.request("/api/dms", { method: "POST", headers: a.headers, body: JSON.stringify({ user_id: bob.id }) });
    if (!res.ok) throw new Error(`open DM: ${res.status} ${await res.text()}`);
    const dm = (await res.json()) as { channel_id: string };
    const dmPath = `/dms/${dm.channel_id}`;

    const aliceS = await openAs(alice);
    const bobS = await openAs(bob);
    await openChat(aliceS.page, dmPath);
    await openChat(bobS.page, dmPath);
    const bobDot = aliceS.page.locator(`.presence-dot[data-presence-user="${bob.id}"]`);
    await expect(bobDot.waitFor(WAIT)).resolves.toBeUndefined();
    await aliceS.page.waitForFunction((id) => document.querySelector<HTMLElement>(`.presence-dot[data-presence-user="${id}"]`)?.dataset.presence === "online", bob.id, WAIT);

    // Keyboard: open the account menu (where the status picker lives, issue 13 §1), focus the
    // picker, choose "Do not disturb" with the arrow keys.
    await bobS.page.locator("[data-user-menu] summary").first().focus();
    await bobS.page.keyboard.press("Enter");
    const picker = bobS.page.locator("[data-user-menu][open] select[data-presence-picker]");
    await picker.focus();
    await picker.press("ArrowDown"); // idle
    await picker.press("ArrowDown"); // dnd
    await aliceS.page.waitForFunction((id) => document.querySelector<HTMLElement>(`.presence-dot[data-presence-user="${id}"]`)?.dataset.presence === "dnd", bob.id, WAIT);
    expect(await bobS.page.evaluate(() => document.querySelector<HTMLSelectElement>("[data-user-menu][open] select[data-presence-picker]")?.value)).toBe("dnd");

    // Alice sends; Bob's open page reads it; Alice sees "Seen by Bob".
    const input = aliceS.page.locator("#composer-input");
    await aliceS.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
    await input.fill("are you there?");
    await input.press("Enter");
    await aliceS.page.waitForFunction(() => document.querySelector(".chat-seen")?.textContent === "Seen by Bob", undefined, WAIT).catch(async (error) => {
      throw new Error(`no receipt: ${await aliceS.page.evaluate(() => document.querySelector(".chat-seen")?.textContent)} ${error}`);
    });

    // Bob leaves: after the grace, Alice's dot shows offline.
    await bobS.page.close();
    await aliceS.page.waitForFunction((id) => document.querySelector<HTMLElement>(`.presence-dot[data-presence-user="${id}"]`)?.dataset.presence === "offline", bob.id, WAIT);
    expect(aliceS.problems.all()).toEqual([]);
  });
});
