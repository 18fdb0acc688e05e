// The admin area's new tabs and actions in real Chromium at 360 px, by keyboard (issue 15 §1):
// delete a community owner choosing an heir through the confirmation that names what happens;
// make a password-reset link and copy it; grant a power on the Powers tab. No CSP violation, no
// serious axe violation, no sideways scrolling. launchBrowser prints "[skip]" when Chromium is missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { openSignedIn } from "../helpers/chat-e2e.ts";
import { createUser } from "../helpers/users.ts";
import { client, expectOk } from "../features/communities/helpers.ts";

const browser: Browser | null = await launchBrowser();
let ctx: TestContext;
let base = "";

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ctx?.close();
});

/** Presses a control by keyboard: focus, then Enter (Space for checkboxes). */
async function press(page: Page, locator: ReturnType<Page["getByRole"]>, key = "Enter"): Promise<void> {
  await locator.focus();
  await page.keyboard.press(key);
}

async function checkPage(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
  expect(await seriousAxeViolations(page)).toEqual([]);
}

describe.skipIf(!browser)("Administration at 360 px, by keyboard", () => {
  test("delete an owner with an heir; make and copy a reset link; grant a power", async () => {
    const owner = await createUser(ctx, { isOwner: true });
    const founder = await client(ctx, { displayName: "Founder <i>" });
    const community = await expectOk(founder.call("POST", "/api/communities", { name: "Knitting club" }), 201);
    const invite = await expectOk(founder.call("POST", `/api/communities/${community.id}/invites`, {}), 201);
    const heir = await client(ctx, { displayName: "Helen Heir" });
    await expectOk(heir.call("POST", `/api/community-invites/${invite.code}/accept`));
    const forgetful = await createUser(ctx, { displayName: "Forgetful Fred" });
    const newAdmin = await createUser(ctx, { displayName: "Nora New" });

    const track: BrowserContext[] = [];
    const { page, problems } = await openSignedIn(browser!, ctx, base, owner, { track, viewport: { width: 360, height: 740 } });
    try {
      // Delete, with an heir chosen by keyboard.
      await page.goto(`${base}/admin/users/${founder.user.id}`, { waitUntil: "load" });
      await checkPage(page);
      const heirSelect = page.getByLabel("Heir of “Knitting club” (2 members)");
      await heirSelect.focus();
      await page.keyboard.press("ArrowDown");
      expect(await heirSelect.inputValue()).toBe(`${community.id}:${heir.user.id}`);
      await press(page, page.getByRole("button", { name: "Delete account" }));
      const dialog = page.getByRole("dialog");
      await expect(dialog.textContent()).resolves.toContain("The community they own goes to the heir you chose");
      await expect(dialog.textContent()).resolves.toContain("Their messages stay, shown as “Deleted user”");
      await screenshot(page, "admin-delete-dialog-phone");
      await press(page, dialog.getByRole("button", { name: "Delete account" }));
      await page.waitForURL(/saved=deleted/);
      const transferred = await ctx.database.db.selectFrom("communities").select("owner_id").where("id", "=", community.id).executeTakeFirstOrThrow();
      expect(transferred.owner_id).toBe(heir.user.id);
      expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", founder.user.id).executeTakeFirst()).toBeUndefined();

      // A reset link, made through the confirmation and copied.
      await page.goto(`${base}/admin/users/${forgetful.id}`, { waitUntil: "load" });
      await expect(page.getByTestId("reset-history-notice").textContent()).resolves.toContain("recovery key");
      await press(page, page.getByRole("button", { name: "Make a reset link" }));
      await press(page, page.getByRole("dialog").getByRole("button", { name: "Make the link" }));
      const link = page.getByTestId("reset-link");
      await link.waitFor();
      expect(await link.textContent()).toMatch(/\/reset-password\/[A-Za-z0-9_-]{43}/);
      const copy = page.getByRole("button", { name: "Copy link" });
      await press(page, copy);
      await page.waitForFunction(() => /Copied|Selected/.test(document.querySelector("[data-copy-target='reset-link']")?.textContent ?? ""));
      await screenshot(page, "admin-reset-link-phone");
      await checkPage(page);

      // Powers: make Nora an admin with `audit`, by keyboard.
      await page.goto(`${base}/admin/powers`, { waitUntil: "load" });
      await checkPage(page);
      await page.getByLabel("Username").fill(newAdmin.username);
      await press(page, page.locator("#grant-audit"), "Space");
      expect(await page.locator("#grant-audit").isChecked()).toBe(true);
      await press(page, page.getByRole("button", { name: "Grant" }));
      await page.waitForURL(/saved=granted/);
      await expect(page.getByTestId("admins-list").textContent()).resolves.toContain("Nora New");
      await screenshot(page, "admin-powers-phone");
      await checkPage(page);
      const row = await ctx.database.db.selectFrom("users").select(["is_admin", "admin_powers"]).where("id", "=", newAdmin.id).executeTakeFirstOrThrow();
      expect([row.is_admin, row.admin_powers]).toEqual([true, ["audit"]]);
      expect(problems.all()).toEqual([]);
    } finally {
      for (const context of track) await context.close();
    }
  }, 120_000);
});
