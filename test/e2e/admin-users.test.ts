// The admin users tab in real Chromium (issue 15 §1): reached from the settings navigation,
// search by keyboard, open a user, suspend with a reason through the confirmation, lift it; no
// CSP violation, no serious axe violation, no sideways scrolling, at 1280 and 360 px.
// launchBrowser prints "[skip]" when Chromium is missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { openSignedIn } from "../helpers/chat-e2e.ts";
import { createUser } from "../helpers/users.ts";

const browser: Browser | null = await launchBrowser();
let ctx: TestContext;
let base = "";

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext();
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ctx?.close();
});

describe.skipIf(!browser)("Administration › Users", () => {
  for (const viewport of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 360, height: 740 },
  ]) {
    test(`at ${viewport.width} px: find, suspend with a reason, unsuspend; by keyboard`, async () => {
      const admin = await createUser(ctx, { isAdmin: true, adminPowers: ["users"] });
      const target = await createUser(ctx, { displayName: `Mallory ${viewport.name}` });
      const track: BrowserContext[] = [];
      const { page, problems } = await openSignedIn(browser!, ctx, base, admin, { track, viewport: { width: viewport.width, height: viewport.height } });
      try {
        await page.goto(`${base}/settings/account`, { waitUntil: "load" });
        await page.getByRole("link", { name: "Users" }).click();
        await page.waitForURL(`${base}/admin/users`);
        expect(await seriousAxeViolations(page)).toEqual([]);
        await page.getByLabel("Search").fill(target.username);
        await page.keyboard.press("Enter");
        await page.waitForURL(/q=/);
        const link = page.getByRole("link", { name: `Mallory ${viewport.name}` });
        await link.focus();
        await page.keyboard.press("Enter");
        await page.waitForURL(`${base}/admin/users/${target.id}`);
        await page.getByLabel("Reason").fill("posting spam");
        await page.getByRole("button", { name: "Suspend" }).click();
        const dialog = page.getByRole("dialog");
        await expect(dialog.textContent()).resolves.toContain("Every session and API token of theirs ends now");
        await dialog.getByRole("button", { name: "Suspend" }).click();
        await page.waitForURL(/saved=suspended/);
        await expect(page.locator("body").textContent()).resolves.toContain("posting spam");
        await screenshot(page, `admin-user-${viewport.name}`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
        expect(await seriousAxeViolations(page)).toEqual([]);
        const row = await ctx.database.db.selectFrom("users").select("suspended_reason").where("id", "=", target.id).executeTakeFirstOrThrow();
        expect(row.suspended_reason).toBe("posting spam");
        await page.getByRole("button", { name: "Unsuspend" }).click();
        await page.getByRole("dialog").getByRole("button", { name: "Unsuspend" }).click();
        await page.waitForURL(/saved=unsuspended/);
        const after = await ctx.database.db.selectFrom("users").select("suspended_at").where("id", "=", target.id).executeTakeFirstOrThrow();
        expect(after.suspended_at).toBeNull();
        expect(problems.all()).toEqual([]);
      } finally {
        for (const context of track) await context.close();
      }
    });
  }
});
