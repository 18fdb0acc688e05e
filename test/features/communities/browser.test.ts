/**
 * Chromium, end to end under the production CSP: create a community → invite link → a second
 * user joins in another browser context and sees the channel list; a moderator times the user
 * out and the UI shows it. htmx navigation keeps the page (no full reload) and the back button
 * works. Screenshots (desktop and 360 px) go to test-artifacts/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { collectProblems, launchBrowser, screenshot, type PageProblems } from "../../helpers/browser.ts";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, type TestUser } from "../../helpers/users.ts";
import { communityTestContext, expectOk, client } from "./helpers.ts";

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };

const browser: Browser | null = await launchBrowser();
let ctx: TestContext;
let base: string;

beforeAll(async () => {
  if (!browser) return;
  ctx = await communityTestContext();
  ctx.app.listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});
afterAll(async () => {
  await browser?.close();
  if (ctx) await ctx.close();
});

type Session = { context: BrowserContext; page: Page; problems: PageProblems };

async function openAs(user: TestUser, viewport = DESKTOP): Promise<Session> {
  const { accessToken, refreshToken } = await cookieSignIn(ctx, user);
  const context = await browser!.newContext({ viewport, reducedMotion: "reduce" });
  await context.addCookies([
    { name: "hearth_access", value: accessToken, url: base, httpOnly: true, sameSite: "Lax" },
    { name: "hearth_refresh", value: refreshToken, url: base, httpOnly: true, sameSite: "Lax" },
  ]);
  const page = await context.newPage();
  const problems = await collectProblems(page);
  return { context, page, problems };
}

async function ready(page: Page) {
  await page.waitForFunction(() => Boolean((window as unknown as { Alpine?: unknown }).Alpine) && document.readyState === "complete");
}

describe.skipIf(!browser)("communities in Chromium", () => {
  test("create → invite → join → timeout, on desktop and 360 px", async () => {
    const ownerUser = await createUser(ctx, { displayName: "Olive Owner" });
    const memberUser = await createUser(ctx, { displayName: "Milo Member" });
    const moderatorUser = await createUser(ctx, { displayName: "Mona Moderator" });

    // 1. The owner creates a community through the form.
    const owner = await openAs(ownerUser);
    await owner.page.goto(`${base}/communities`);
    await ready(owner.page);
    // A blank name comes back inline (422 re-rendered form), then a good one goes through.
    await owner.page.fill("#create-community input[name=name]", "   ");
    await owner.page.click("#create-community button[type=submit]");
    await owner.page.waitForSelector('#create-community input[name=name][aria-invalid="true"]');
    await expect(owner.page.locator("#create-community .field__error").textContent()).resolves.toContain("1–64 characters");
    await owner.page.fill("#create-community input[name=name]", "Browser Guild");
    await owner.page.click("#create-community button[type=submit]");
    await owner.page.waitForURL(/\/c\/[0-9a-f-]+\/ch\/[0-9a-f-]+$/);
    await expect(owner.page.locator("#channel-nav").textContent()).resolves.toContain("general");
    const communityId = /\/c\/([0-9a-f-]+)\//.exec(owner.page.url())![1]!;

    // 2. The owner makes an invite link in settings.
    await owner.page.goto(`${base}/c/${communityId}/settings/invites`);
    await ready(owner.page);
    await owner.page.click("#create-invite button[type=submit]");
    await owner.page.waitForSelector(".invite-link");
    const inviteUrl = (await owner.page.locator(".invite-link__url").first().textContent())!.trim();
    expect(inviteUrl).toMatch(/\/invite\/[A-Za-z0-9]{12}$/);
    await screenshot(owner.page, "communities-settings-invites-desktop");

    // 3. A second user opens the link in another browser context, sees the community, joins.
    const member = await openAs(memberUser);
    await member.page.goto(inviteUrl);
    await ready(member.page);
    await expect(member.page.locator("#invite-community-name").textContent()).resolves.toBe("Browser Guild");
    await screenshot(member.page, "communities-invite-desktop");
    await member.page.click("#accept-invite");
    await member.page.waitForURL(/\/c\/[0-9a-f-]+\/ch\/[0-9a-f-]+$/);
    await expect(member.page.locator("#channel-nav").textContent()).resolves.toContain("general");
    await screenshot(member.page, "communities-chat-desktop");

    // 4. htmx navigation between channels: URL changes, no full reload, back works.
    const ownerApi = await client(ctx);
    await ctx.database.db.insertInto("community_members").values({ community_id: communityId, user_id: ownerApi.user.id, role: "admin", nickname: null }).execute();
    const groups = await expectOk(ownerApi.call("GET", `/api/communities/${communityId}/groups`));
    const news = await expectOk(ownerApi.call("POST", `/api/groups/${groups.groups[0].id}/channels`, { name: "news", topic: "Announcements" }), 201);
    await member.page.reload();
    await ready(member.page);
    const firstUrl = member.page.url();
    await member.page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));
    await member.page.click(`a[href$="/ch/${news.id}"]`);
    await member.page.waitForURL(new RegExp(`/ch/${news.id}$`));
    await member.page.waitForSelector(".channel-header__name:text('news')");
    expect(await member.page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42);
    await member.page.goBack();
    await member.page.waitForURL(firstUrl);
    await ready(member.page);
    // Boosted navigation between a document page and the chat frame swaps the whole body, class
    // included (the frame needs body--app), still without a full reload.
    await member.page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 7));
    await member.page.click('a.rail-item[href="/communities"]');
    await member.page.waitForURL(/\/communities$/);
    // The URL may be pushed a moment before the swap lands: wait for the new body, not the URL.
    await member.page.waitForFunction(() => document.body.className === "body--page" && !!document.querySelector("#community-list"));
    await member.page.click(`a[href="/c/${communityId}"]`);
    await member.page.waitForURL(/\/ch\//);
    await member.page.waitForFunction(() => document.body.className === "body--app" && !!document.querySelector("#channel-nav"));
    expect(await member.page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(7);
    // Alpine components in swapped-in markup work (the report dialog opens and closes).
    await member.page.getByRole("button", { name: "Report…" }).click();
    await member.page.waitForSelector("dialog[open]");
    await member.page.keyboard.press("Escape");
    await member.page.waitForSelector("dialog[open]", { state: "detached" });

    // 5. A moderator times the member out from the settings page.
    const inviteCode = inviteUrl.split("/").pop()!;
    const modApi = await openAs(moderatorUser);
    await modApi.page.goto(`${base}/invite/${inviteCode}`);
    await ready(modApi.page);
    await modApi.page.click("#accept-invite");
    await modApi.page.waitForURL(/\/ch\//);
    await ctx.database.db.updateTable("community_members").set({ role: "moderator" }).where("user_id", "=", moderatorUser.id).execute();
    await modApi.page.goto(`${base}/c/${communityId}/settings/members`);
    await ready(modApi.page);
    const row = modApi.page.locator(`tr[data-user-id="${memberUser.id}"]`);
    await row.locator("select[name=duration_seconds]").selectOption("3600");
    await row.getByRole("button", { name: "Time out" }).click();
    await modApi.page.waitForSelector(`tr[data-user-id="${memberUser.id}"] .badge--warning`);
    await screenshot(modApi.page, "communities-settings-members-desktop");

    // 6. The member's UI shows the timeout: notice, disabled composer, badge in the member list.
    await member.page.reload();
    await ready(member.page);
    await expect(member.page.locator("#composer-notice").textContent()).resolves.toContain("You are timed out until");
    expect(await member.page.locator("#composer-input").isDisabled()).toBe(true);
    await expect(member.page.locator("#member-panel").textContent()).resolves.toContain("timed out");
    await screenshot(member.page, "communities-timed-out-desktop");

    // 7. The member reports someone through the report dialog; the moderator's queue shows it.
    await member.page.getByRole("button", { name: "Report…" }).click();
    await member.page.waitForSelector("dialog[open]");
    await member.page.selectOption("#report-target", moderatorUser.id);
    await member.page.fill("#report-reason", "Timed me out <b>unfairly</b>");
    await member.page.fill("#report-text", "what I saw");
    await screenshot(member.page, "communities-report-dialog-desktop");
    await member.page.getByRole("button", { name: "Send report" }).click();
    await member.page.waitForSelector(".toast--success");
    await modApi.page.goto(`${base}/c/${communityId}/settings/reports`);
    await ready(modApi.page);
    await expect(modApi.page.locator(".settings__content").textContent()).resolves.toContain("Timed me out <b>unfairly</b>");
    await screenshot(modApi.page, "communities-settings-reports-desktop");

    // 8. 360 px: the same screens fit; the channel drawer opens.
    const phone = await openAs(memberUser, PHONE);
    await phone.page.goto(member.page.url());
    await ready(phone.page);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(phone.page, "communities-timed-out-phone");
    await phone.page.click(".pane-header__nav-toggle");
    await phone.page.waitForSelector("#channel-nav a", { state: "visible" });
    await screenshot(phone.page, "communities-channels-drawer-phone");
    await phone.page.goto(`${base}/communities`);
    await ready(phone.page);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(phone.page, "communities-picker-phone");
    await phone.page.goto(`${base}/dms/new`);
    await ready(phone.page);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(phone.page, "communities-dm-picker-phone");
    await member.page.goto(`${base}/dms/new`);
    await ready(member.page);
    await member.page.locator(`input[name="u_${moderatorUser.id}"]`).check();
    await member.page.getByRole("button", { name: "Start conversation" }).click();
    await member.page.waitForURL(/\/dms\/[0-9a-f-]+$/);
    await expect(member.page.locator("#dm-list").textContent()).resolves.toContain("Mona Moderator");
    await screenshot(member.page, "communities-dm-desktop");
    const ownerPhone = await openAs(ownerUser, PHONE);
    await ownerPhone.page.goto(`${base}/c/${communityId}/settings/members`);
    await ready(ownerPhone.page);
    expect(await ownerPhone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(ownerPhone.page, "communities-settings-members-phone");

    for (const section of ["overview", "channels", "roles", "audit"]) {
      await owner.page.goto(`${base}/c/${communityId}/settings/${section}`);
      await ready(owner.page);
      expect(await owner.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(DESKTOP.width);
      await screenshot(owner.page, `communities-settings-${section}-desktop`);
    }
    await ownerPhone.page.goto(`${base}/c/${communityId}/settings/roles`);
    await ready(ownerPhone.page);
    expect(await ownerPhone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(ownerPhone.page, "communities-settings-roles-phone");

    for (const s of [owner, member, modApi, phone, ownerPhone]) {
      // The deliberate 422 above is logged by Chromium as a failed resource load; nothing else may be.
      expect(s.problems.all().filter((p) => !/status of 422/.test(p))).toEqual([]);
      await s.context.close();
    }
  }, 60_000);
});
