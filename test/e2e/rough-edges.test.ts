// Issue 13 §9, "the rough edges found", in real Chromium against the real server: each rough
// edge has a test here (layout at 1280 and 360 px, keyboard paths, axe-core, no CSP violations).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted, type ApiCall, type TwoMembers } from "../helpers/chat-e2e.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
const WAIT = { timeout: 30_000 };
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

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

type Session = { context: BrowserContext; page: Page; problems: PageProblems };

/** Polls `check` until it holds (bounded: 30 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 150 && !(await check()); i++) await Bun.sleep(200);
}

/** Serious and critical axe-core violations on the page, as "rule: target" lines. */
async function axeSerious(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, not as page script, so the strict CSP stays on.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[]; failureSummary: string }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} ${n.failureSummary}`));
  });
  return result;
}

describe.skipIf(!browser)("rough edges", () => {
  let m: TwoMembers;
  let aliceS: Session;
  let bobS: Session;
  const call: ApiCall = (...args) => apiCaller(ctx)(...args);

  async function openAs(user: { id: string }, viewport = DESKTOP): Promise<Session> {
    return openSignedIn(browser!, ctx, base, user, { track: opened, viewport });
  }
  async function openChat(s: Session, path: string): Promise<void> {
    const response = await s.page.goto(`${base}${path}`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    await s.page.waitForSelector("[data-chat-ready]", WAIT);
  }

  test("setup: Alice and Bob in a channel, Alice's message decrypts", async () => {
    m = await aliceAndBobInCommunity(ctx, call, "Rough crew");
    aliceS = await openAs(m.alice);
    await openChat(aliceS, m.channelPath);
    await aliceS.page.locator("#composer-input").fill("hello there");
    await aliceS.page.locator("#composer-input").press("Enter");
    await seesDecrypted(aliceS.page, "hello there");
    bobS = await openAs(m.bob);
    await openChat(bobS, m.channelPath);
    await seesDecrypted(bobS.page, "hello there");
  });

  test("(a) the Status picker sits inside the sidebar on one line, at 1280 and 360 px", async () => {
    const page = aliceS.page;
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      if (viewport === PHONE) {
        await page.locator('[data-panel-toggle="nav"]').focus();
        await page.keyboard.press("Enter");
        await page.waitForFunction(() => document.querySelector("#app-frame")?.getAttribute("data-open") === "nav", undefined, WAIT);
        await page.waitForTimeout(300); // the drawer's slide
      }
      // The picker lives in the account menu at the foot of the sidebar (issue 13 §1).
      await page.locator(".sidebar [data-user-menu] summary").click();
      const picker = page.locator(".presence-picker");
      await picker.waitFor(WAIT);
      const [box, sidebar, rail, label] = await Promise.all([picker.boundingBox(), page.locator(".sidebar").boundingBox(), page.locator(".rail").boundingBox(), page.locator(".presence-picker__label").boundingBox()]);
      expect(box!.x).toBeGreaterThanOrEqual(sidebar!.x);
      expect(box!.x).toBeGreaterThanOrEqual(rail!.x + rail!.width);
      expect(box!.x + box!.width).toBeLessThanOrEqual(sidebar!.x + sidebar!.width + 0.5);
      // "Status" on one line (it wrapped as "Stat/us"): one line of 13 px text.
      expect(label!.height).toBeLessThan(24);
      expect(await page.locator(".presence-picker__label").textContent()).toBe("Status");
      await screenshot(page, `rough-a-status-${viewport.width}`);
      await page.keyboard.press("Escape"); // the menu
      if (viewport === PHONE) {
        await page.keyboard.press("Escape");
        await page.setViewportSize(DESKTOP);
      }
    }
    expect(aliceS.problems.all()).toEqual([]);
  });
  test("(b) the report dialog closes after sending, with a toast, and a second report works without a reload", async () => {
    const page = bobS.page;
    const dialog = page.locator("dialog[data-report-dialog]");
    for (const reason of ["first report: spam", "second report: still spam"]) {
      await page.getByRole("button", { name: "Report…" }).click();
      await dialog.waitFor({ state: "visible", ...WAIT });
      expect(await dialog.locator("[data-report-title]").textContent()).toContain("Report a member");
      expect(await dialog.locator("textarea[name=reason]").inputValue()).toBe(""); // a fresh form each time
      await dialog.locator("#report-target").selectOption({ label: "Alice" });
      await dialog.locator("textarea[name=reason]").fill(reason);
      await dialog.getByRole("button", { name: "Send report" }).click();
      await dialog.waitFor({ state: "hidden", ...WAIT });
      await page.locator("#toasts .toast", { hasText: "the moderators will look at your report" }).last().waitFor(WAIT);
    }
    const reports = await call(m.aliceHeaders, "GET", `/api/communities/${m.communityId}/reports`);
    expect(reports.reports.map((r: { reason: string; target_type: string }) => `${r.target_type}: ${r.reason}`).sort()).toEqual(["user: first report: spam", "user: second report: still spam"]);
    await screenshot(page, "rough-b-report-closed");
    expect(bobS.problems.all()).toEqual([]);
  });

  test("(c) 'Report message' in the message menu reports that message, by keyboard, at 360 px", async () => {
    const page = bobS.page;
    await page.setViewportSize(PHONE);
    const row = page.locator(".msg", { hasText: "hello there" });
    await row.getByRole("button", { name: "More actions" }).focus();
    await page.keyboard.press("Enter");
    const report = row.getByRole("button", { name: "Report message" });
    await report.waitFor(WAIT);
    await report.focus();
    await page.keyboard.press("Enter");
    const dialog = page.locator("dialog[data-report-dialog]");
    await dialog.waitFor({ state: "visible", ...WAIT });
    expect(await dialog.locator("[data-report-title]").textContent()).toBe("Report a message");
    expect(await dialog.locator("[data-report-message]").textContent()).toBe("A message by Alice.");
    expect(await dialog.locator("#report-target").isVisible()).toBe(false);
    expect(await dialog.locator("textarea[name=attached_text]").inputValue()).toBe("hello there");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("reason");
    await page.keyboard.type("this message is abusive");
    const box = await dialog.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, "rough-c-report-message-360");
    expect(await axeSerious(page)).toEqual([]);
    await dialog.getByRole("button", { name: "Send report" }).click();
    await dialog.waitFor({ state: "hidden", ...WAIT });
    // Focus returns to the message's menu; the dialog is back to reporting members.
    await page.waitForFunction(() => document.querySelector("[data-report-title]")?.textContent?.includes("Report a member"), undefined, WAIT);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("More actions");
    const messageId = await row.getAttribute("data-message-id");
    const reports = await call(m.aliceHeaders, "GET", `/api/communities/${m.communityId}/reports`);
    const mine = reports.reports.find((r: { target_type: string }) => r.target_type === "message");
    expect(mine).toMatchObject({ target_id: messageId, reason: "this message is abusive", attached_text: "hello there" });
    // Own messages offer no "Report"; and a reporter may only report what they can see:
    // someone outside the community gets the same 404 as an unknown message.
    const carol = await createUser(ctx, { displayName: "Carol" });
    const c = await signIn(ctx, carol);
    const res = await ctx.request("/api/reports", { method: "POST", headers: c.headers, body: JSON.stringify({ community_id: m.communityId, target_type: "message", target_id: messageId, reason: "probe" }) });
    expect(res.status).toBe(404);
    await page.setViewportSize(DESKTOP);
    expect(bobS.problems.all()).toEqual([]);
  });

  test("(d) deleting a message asks first, naming what happens; Cancel keeps it", async () => {
    const page = aliceS.page;
    await page.locator("#composer-input").fill("delete me soon");
    await page.locator("#composer-input").press("Enter");
    await seesDecrypted(page, "delete me soon");
    const row = page.locator(".msg", { hasText: "delete me soon" });
    await row.getByRole("button", { name: "More actions" }).focus();
    await page.keyboard.press("Enter");
    expect(await row.getByRole("button", { name: "Report message" }).count()).toBe(0); // not one's own
    await row.getByRole("button", { name: "Delete message" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Delete this message?" });
    await dialog.waitFor(WAIT);
    expect(await dialog.textContent()).toContain("disappears for everyone");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached", ...WAIT });
    expect(await row.getAttribute("data-state")).toBe("ok");
    await row.getByRole("button", { name: "More actions" }).focus();
    await page.keyboard.press("Enter");
    await row.getByRole("button", { name: "Delete message" }).focus();
    await page.keyboard.press("Enter");
    await dialog.getByRole("button", { name: "Delete message" }).click();
    await page.waitForFunction(() => ![...document.querySelectorAll(".msg")].some((m) => m.textContent?.includes("delete me soon") && !m.classList.contains("msg--deleted")), undefined, WAIT);
    expect(aliceS.problems.all()).toEqual([]);
  });

  test("(d) kick, ban, sign-out-everywhere and account deletion each ask first, naming what will happen", async () => {
    const dave = await createUser(ctx, { displayName: "Dave" });
    const d = await signIn(ctx, dave);
    const invite = await call(m.aliceHeaders, "POST", `/api/communities/${m.communityId}/invites`, {});
    await call(d.headers, "POST", `/api/community-invites/${invite.code}/accept`);
    const page = aliceS.page;
    await page.goto(`${base}/c/${m.communityId}/settings/members`, { waitUntil: "load" });
    const kickForm = page.locator(`form[action$="/members/${dave.id}/kick"]`);
    await kickForm.getByRole("button", { name: "Kick" }).click();
    let dialog = page.getByRole("dialog", { name: "Kick Dave?" });
    await dialog.waitFor(WAIT);
    expect(await dialog.textContent()).toContain("Dave is removed from this community now");
    await screenshot(page, "rough-d-kick-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
    const members = async () => (await call(m.aliceHeaders, "GET", `/api/communities/${m.communityId}/members`)).members.map((x: { user_id: string }) => x.user_id);
    expect(await members()).toContain(dave.id);
    await kickForm.getByRole("button", { name: "Kick" }).click();
    await dialog.getByRole("button", { name: "Kick Dave" }).click();
    await until(async () => !(await members()).includes(dave.id));
    expect(await members()).not.toContain(dave.id);
    const banForm = page.locator(`form[action$="/members/${m.bob.id}/ban"]`);
    await banForm.getByRole("button", { name: "Ban" }).click();
    dialog = page.getByRole("dialog", { name: "Ban Bob?" });
    await dialog.waitFor(WAIT);
    expect(await dialog.textContent()).toContain("cannot rejoin");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", ...WAIT });
    expect(await members()).toContain(m.bob.id);

    const daveS = await openAs(dave);
    await daveS.page.goto(`${base}/settings/security`, { waitUntil: "load" });
    await daveS.page.getByRole("button", { name: "Sign out everywhere" }).click();
    dialog = daveS.page.getByRole("dialog", { name: "Sign out everywhere?" });
    await dialog.waitFor(WAIT);
    expect(await dialog.textContent()).toContain("this one included");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(daveS.page.url()).toContain("/settings/security");
    await daveS.page.goto(`${base}/settings/account`, { waitUntil: "load" });
    await daveS.page.locator("#delete-form input[name=password]").fill(dave.password);
    await daveS.page.getByRole("button", { name: "Delete my account" }).click();
    dialog = daveS.page.getByRole("dialog", { name: "Delete your account?" });
    await dialog.waitFor(WAIT);
    expect(await dialog.textContent()).toContain("cannot be undone");
    await daveS.page.setViewportSize(PHONE);
    await screenshot(daveS.page, "rough-d-delete-account-confirm-360");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await daveS.page.locator("#delete-form").count()).toBe(1);
    expect(await call(d.headers, "GET", "/api/account/me").catch(() => null)).not.toBeNull();
    // Confirming goes through (a plain POST form: the confirmed submit is the real one).
    await daveS.page.goto(`${base}/settings/security`, { waitUntil: "load" });
    await daveS.page.getByRole("button", { name: "Sign out everywhere" }).click();
    await daveS.page.getByRole("dialog", { name: "Sign out everywhere?" }).getByRole("button", { name: "Sign out everywhere" }).click();
    await daveS.page.waitForURL(/\/login/, WAIT);
    expect((await ctx.request("/api/account/me", { headers: d.headers })).status).toBe(401);
    expect([...aliceS.problems.all(), ...daveS.problems.all()]).toEqual([]);
  });

  test("(e) the members and invites admin tables read as one card per row at 360 px (no letter-by-letter wrapping)", async () => {
    const page = aliceS.page;
    const eve = await createUser(ctx, { displayName: "Eve" });
    await call(m.aliceHeaders, "POST", `/api/communities/${m.communityId}/invites`, { max_uses: 5 });
    await call(m.aliceHeaders, "PUT", `/api/communities/${m.communityId}/bans/${eve.id}`, { reason: "a very long reason for the ban that has to wrap somewhere sensible" });
    await page.setViewportSize(PHONE);
    for (const section of ["members", "invites", "bans"]) {
      const response = await page.goto(`${base}/c/${m.communityId}/settings/${section}`, { waitUntil: "load" });
      expect(response?.status()).toBe(200);
      const table = page.locator("table.table--stack");
      await table.waitFor(WAIT);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      // Every cell spans the card (the squeezed columns were ~30 px wide).
      const widths = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>("table.table--stack td")].map((td) => td.getBoundingClientRect().width));
      expect(widths.length).toBeGreaterThan(0);
      expect(Math.min(...widths)).toBeGreaterThan(250);
      if (section === "members") {
        // "@username" on one line, not one letter per line.
        const lines = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>("#members-table td .muted")].map((s) => s.getClientRects().length));
        expect(Math.max(...lines)).toBe(1);
        // Keyboard: Tab reaches the row's actions.
        await page.locator("#members-table select").first().focus();
        expect(await page.evaluate(() => document.activeElement?.closest("td")?.dataset.label)).toBe("Role");
      }
      await screenshot(page, `rough-e-${section}-360`, true);
      expect(await axeSerious(page)).toEqual([]);
    }
    await page.setViewportSize(DESKTOP);
    await screenshot(page, "rough-e-bans-desktop");
    expect(aliceS.problems.all()).toEqual([]);
  });

  test("(f) the phone composer shows the emoji button, and it inserts an emoji by keyboard", async () => {
    const page = bobS.page;
    await page.setViewportSize(PHONE);
    await openChat(bobS, m.channelPath);
    const emoji = page.getByRole("button", { name: "Insert emoji" });
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>(".composer__emoji")?.disabled, undefined, WAIT);
    expect(await emoji.isVisible()).toBe(true);
    const [button, composer] = await Promise.all([emoji.boundingBox(), page.locator(".composer").boundingBox()]);
    expect(button!.x).toBeGreaterThanOrEqual(composer!.x);
    expect(button!.x + button!.width).toBeLessThanOrEqual(composer!.x + composer!.width);
    expect(button!.width).toBeGreaterThanOrEqual(24);
    await emoji.focus();
    await page.keyboard.press("Enter");
    const search = page.getByRole("searchbox", { name: "Search emoji by name" });
    await search.waitFor(WAIT);
    await page.keyboard.type("party");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector<HTMLTextAreaElement>("#composer-input")?.value.includes("🎉"), undefined, WAIT);
    await screenshot(page, "rough-f-composer-360");
    await page.locator("#composer-input").fill("");
    await page.setViewportSize(DESKTOP);
    expect(bobS.problems.all()).toEqual([]);
  });

  test("(g) on a phone the polls strip starts collapsed to one line and opens by keyboard", async () => {
    // Alice creates a poll from her desktop; Bob, on a phone, opens the channel.
    const page = aliceS.page;
    await openChat(aliceS, m.channelPath);
    await page.getByRole("button", { name: "Create a poll" }).click();
    const dialog = page.getByRole("dialog", { name: "Create a poll" });
    await dialog.waitFor(WAIT);
    await dialog.getByLabel("Question").fill("Lunch where?");
    await dialog.getByLabel("Option 1", { exact: true }).fill("Pizza");
    await dialog.getByLabel("Option 2", { exact: true }).fill("Noodles");
    await dialog.getByRole("button", { name: "Create poll" }).click();
    await dialog.waitFor({ state: "detached", ...WAIT });
    await page.locator(".polls__list li").first().waitFor(WAIT);

    const phone = bobS.page;
    await phone.setViewportSize(PHONE);
    await openChat(bobS, m.channelPath);
    const strip = phone.getByRole("region", { name: "Polls" }); // the meetings strip shares its look (class polls)
    await strip.waitFor(WAIT);
    await phone.waitForFunction(() => document.querySelector("section.polls[aria-label='Polls'] .polls__summary")?.textContent === "Polls · 1 open", undefined, WAIT);
    expect(await strip.locator("details.polls__details").evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    const collapsed = await strip.boundingBox();
    expect(collapsed!.height).toBeLessThanOrEqual(48);
    await screenshot(phone, "rough-g-polls-collapsed-360");
    await strip.locator(".polls__summary").focus();
    await phone.keyboard.press("Enter");
    await strip.locator(".polls__list li").first().waitFor(WAIT);
    await screenshot(phone, "rough-g-polls-open-360");
    await phone.setViewportSize(DESKTOP);
    expect([...aliceS.problems.all(), ...bobS.problems.all()]).toEqual([]);
  });

  test("(h) a paste longer than a message says at the composer that it was cut, and by how much", async () => {
    const page = bobS.page;
    await page.setViewportSize(PHONE);
    await bobS.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    const input = page.locator("#composer-input");
    await input.fill("");
    await input.focus();
    await page.evaluate((t) => navigator.clipboard.writeText(t), "x".repeat(4_500));
    await page.keyboard.press("Control+V");
    const notice = page.locator("[data-paste-notice]");
    await notice.waitFor(WAIT);
    expect(await notice.textContent()).toBe("Pasted text was cut: a message holds 4,000 characters, so the last 500 were left out.");
    expect(await notice.getAttribute("role")).toBe("status");
    expect((await input.inputValue()).length).toBe(4_000);
    const [box, composer] = await Promise.all([notice.boundingBox(), page.locator(".composer").boundingBox()]);
    expect(box!.y + box!.height).toBeLessThanOrEqual(composer!.y + 1); // right above the composer
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, "rough-h-paste-cut-360");
    // A paste that fits says nothing; sending clears the notice.
    await input.fill("short");
    await page.keyboard.press("Enter");
    await notice.waitFor({ state: "detached", ...WAIT });
    await page.evaluate((t) => navigator.clipboard.writeText(t), "fits fine");
    await input.focus();
    await page.keyboard.press("Control+V");
    expect(await input.inputValue()).toBe("fits fine");
    expect(await notice.count()).toBe(0);
    await input.fill("");
    await page.setViewportSize(DESKTOP);
    expect(bobS.problems.all()).toEqual([]);
  });

  test("(i) an unknown invite code in the join form is answered at the field, not with a 404 page", async () => {
    const page = bobS.page;
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/communities`, { waitUntil: "load" });
    const field = page.locator("#join-invite input[name=code]");
    await field.fill("nosuchcode123");
    await field.press("Enter");
    await page.waitForSelector("#join-invite input[name=code][aria-invalid='true']", WAIT);
    expect(new URL(page.url()).pathname).toBe("/communities");
    expect(await page.locator("#join-invite .field__error").textContent()).toContain("No invite with that code works");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("code");
    expect(await field.inputValue()).toBe("nosuchcode123");
    await screenshot(page, "rough-i-join-error-360");
    // A malformed one too; and a good link still goes to the invite page.
    await field.fill("not a code!");
    await field.press("Enter");
    await page.waitForFunction(() => document.querySelector("#join-invite .field__error")?.textContent?.includes("does not look like"), undefined, WAIT);
    const invite = await call(m.aliceHeaders, "POST", `/api/communities/${m.communityId}/invites`, {});
    await page.locator("#join-invite input[name=code]").fill(`${base}/invite/${invite.code}`);
    await page.locator("#join-invite input[name=code]").press("Enter");
    await page.waitForURL(`**/invite/${invite.code}`, WAIT);
    // Plain POST (no htmx) answers the same way, with the page.
    const res = await ctx.request("/communities/join", { method: "POST", headers: { ...m.bobHeaders, "content-type": "application/x-www-form-urlencoded" }, body: "code=nosuchcode123" });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("No invite with that code works");
    // Chromium logs the 422 fetches; nothing else (no CSP reports) is allowed.
    expect(bobS.problems.all().filter((p) => !/status of 422/.test(p))).toEqual([]);
    await page.setViewportSize(DESKTOP);
  });

  test("(k) a re-rendered form error logs no CSP 'inline style' violation, even over fields that carry a style attribute", async () => {
    const page = bobS.page;
    const before = bobS.problems.cspViolations.length;
    await page.goto(`${base}/communities`, { waitUntil: "load" });
    for (const attempt of ["nosuchcode1", "nosuchcode2", "nosuchcode3"]) {
      // What a password manager, an extension or a screenshot tool leaves on a field (CSSOM
      // writes are allowed by the CSP; copying them with setAttribute is not).
      await page.evaluate(() => {
        for (const el of document.querySelectorAll<HTMLElement>("#join-invite, #join-invite *")) el.style.outlineOffset = "0px";
      });
      const field = page.locator("#join-invite input[name=code]");
      await field.fill(attempt);
      await field.press("Enter");
      await page.waitForFunction((v) => document.querySelector<HTMLInputElement>("#join-invite input[name=code]")?.getAttribute("value") === v && !document.querySelector("#join-invite input[style]"), attempt, WAIT);
    }
    expect(await page.evaluate(() => (window as unknown as { htmx: { config: { defaultSettleDelay: number } } }).htmx.config.defaultSettleDelay)).toBe(0);
    expect(bobS.problems.cspViolations.slice(before)).toEqual([]);
  });

  test("(j) 'start a DM' with nobody ticked says to choose someone, at the list, by keyboard at 360 px", async () => {
    const page = bobS.page;
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/dms/new`, { waitUntil: "load" });
    await page.locator("#dm-start").getByRole("button", { name: "Start conversation" }).focus();
    await page.keyboard.press("Enter");
    const error = page.locator("#dm-start-error");
    await error.waitFor(WAIT);
    expect(await error.textContent()).toContain("Choose someone to message");
    expect(await page.locator("#dm-start").textContent()).not.toContain("two");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("dm-start-error");
    expect(new URL(page.url()).pathname).toBe("/dms/new");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, "rough-j-dm-nobody-360");
    // Then ticking Alice starts the DM.
    await page.locator("#dm-candidates label", { hasText: "Alice" }).locator("input").check();
    await page.locator("#dm-start").getByRole("button", { name: "Start conversation" }).click();
    await page.waitForURL(/\/dms\/[0-9a-f-]{36}$/, WAIT);
    // The JSON API says the same.
    const res = await ctx.request("/api/dms", { method: "POST", headers: m.bobHeaders, body: JSON.stringify({ user_ids: [] }) });
    expect(JSON.stringify(await res.json())).toContain("Choose someone to message");
    expect(bobS.problems.all().filter((p) => !/status of 422/.test(p))).toEqual([]);
    await page.setViewportSize(DESKTOP);
  });

  test("(m) axe-core: no serious or critical violations on the chat and DM pages, at 1280 and 360 px, with an offline member", async () => {
    // Frank and others join and never open the app: their avatars (every avatar colour, most
    // likely) show offline in the member list.
    const invite = await call(m.aliceHeaders, "POST", `/api/communities/${m.communityId}/invites`, {});
    for (const name of ["Frank", "Gina", "Hank", "Ivy", "Jon", "Kim", "Lee", "Mo", "Ned", "Oda", "Pia", "Quin"]) {
      const user = await createUser(ctx, { displayName: name });
      await call((await signIn(ctx, user)).headers, "POST", `/api/community-invites/${invite.code}/accept`);
    }
    const dm = await call(m.aliceHeaders, "POST", "/api/dms", { user_id: m.bob.id });
    const page = aliceS.page;
    for (const path of [m.channelPath, `/dms/${dm.channel_id}`]) {
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        await openChat(aliceS, path);
        await page.waitForSelector(".msg[data-state='ok'], .channel-intro", WAIT);
        if (path === m.channelPath) await page.locator(".member--offline", { hasText: "Frank" }).waitFor({ state: "attached", ...WAIT });
        const violations = await axeSerious(page);
        await screenshot(page, `rough-m-${path.startsWith("/dms") ? "dm" : "chat"}-${viewport.width}`);
        expect({ path, width: viewport.width, violations }).toEqual({ path, width: viewport.width, violations: [] });
      }
    }
    // Offline avatars are greyed, never faded (opacity lowered their initials' contrast).
    await openChat(aliceS, m.channelPath);
    const faded = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>(".member--offline .avatar")].filter((a) => {
        for (let n: HTMLElement | null = a; n; n = n.parentElement) if (Number(getComputedStyle(n).opacity) < 1) return true;
        return false;
      }).length,
    );
    expect(faded).toBe(0);
    // The live region still wraps the list, and the list is a list again.
    expect(await page.evaluate(() => document.querySelector("#messages")?.parentElement?.getAttribute("role"))).toBe("log");
    expect(await page.evaluate(() => document.querySelector("#messages")?.getAttribute("role"))).toBeNull();
    await page.setViewportSize(DESKTOP);
    expect(aliceS.problems.all()).toEqual([]);
  });

  test("(l) status, pronouns and about me show on a profile card opened from a name or avatar, by mouse and keyboard, at 1280 and 360 px", async () => {
    await call(m.bobHeaders, "PUT", "/api/account/profile", { custom_status: "Baking bread 🍞", pronouns: "he/him", bio: "Line one of about me.\nLine two <b>not bold</b>." });
    const page = aliceS.page;
    await page.setViewportSize(DESKTOP);
    await openChat(aliceS, m.channelPath);
    // The extension point: another module hears profile-card:open and fills the container.
    await page.evaluate(() => {
      document.addEventListener("profile-card:open", (e) => {
        const { extra, userId } = (e as CustomEvent<{ extra: HTMLElement; userId: string }>).detail;
        extra.dataset.heard = userId;
      });
    });
    // Mouse: Bob's row in the member list.
    const bobRow = page.locator("#app-members [data-profile-user]", { hasText: "Bob" });
    await bobRow.click();
    const card = page.locator("dialog.profile-card");
    await card.waitFor(WAIT);
    await card.locator(".profile-card__status").waitFor(WAIT);
    expect(await card.locator("h2").textContent()).toBe("Bob");
    expect(await card.locator(".profile-card__handle").textContent()).toBe(`@${m.bob.username} · he/him`);
    expect(await card.locator(".profile-card__status").textContent()).toBe("Baking bread 🍞");
    expect(await card.locator(".profile-card__about").textContent()).toBe("Line one of about me.\nLine two <b>not bold</b>.");
    expect(await card.locator("b").count()).toBe(0); // text, never markup
    expect(await card.locator("[data-profile-extra]").getAttribute("data-heard")).toBe(m.bob.id);
    expect(await page.getByRole("dialog", { name: "Bob" }).count()).toBe(1);
    await screenshot(page, "rough-l-profile-card-desktop");
    expect(await axeSerious(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await card.waitFor({ state: "detached", ...WAIT });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-profile-user"))).toBe(m.bob.id);

    // Keyboard: a message author's name is a button; Enter opens the card (Alice's own).
    const author = page.locator(".msg-group__author", { hasText: "Alice" }).first();
    await author.focus();
    await page.keyboard.press("Enter");
    await card.waitFor(WAIT);
    await page.waitForFunction(() => document.querySelector(".profile-card__handle")?.textContent?.startsWith("@"), undefined, WAIT);
    expect(await card.locator("h2").textContent()).toBe("Alice");
    expect(await card.textContent()).toContain("No status or about me yet.");
    await card.getByRole("button", { name: "Close" }).press("Enter");
    await card.waitFor({ state: "detached", ...WAIT });
    // The author's avatar opens it too (mouse).
    await page.locator(".msg-group > .avatar").first().click();
    await card.waitFor(WAIT);
    await page.keyboard.press("Escape");
    await card.waitFor({ state: "detached", ...WAIT });

    // Phone: from the members drawer; the card fits 360 px.
    await page.setViewportSize(PHONE);
    await page.locator('[data-panel-toggle="members"]').click();
    await page.locator("#app-members [data-profile-user]", { hasText: "Bob" }).click();
    await card.locator(".profile-card__status").waitFor(WAIT);
    const box = await card.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, "rough-l-profile-card-360");
    expect(await axeSerious(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await page.setViewportSize(DESKTOP);

    // The API behind it: yourself and acquaintances only; a stranger's id reads like an unknown one.
    const stranger = await createUser(ctx, { displayName: "Stranger" });
    const s = await signIn(ctx, stranger);
    for (const [headers, id, status] of [[m.aliceHeaders, m.bob.id, 200], [m.bobHeaders, m.bob.id, 200], [s.headers, m.bob.id, 404], [m.aliceHeaders, stranger.id, 404], [m.aliceHeaders, crypto.randomUUID(), 404]] as const) {
      const res = await ctx.request(`/api/users/${id}/profile`, { headers });
      expect({ id, status: res.status }).toEqual({ id, status });
    }
    expect(aliceS.problems.all()).toEqual([]);
  });
});
