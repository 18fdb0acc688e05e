/**
 * Issue 10 §9 in real Chromium: a browser that signed in before is a trusted device (HttpOnly,
 * SameSite=Strict cookie). Strangers then fail ten times and lock the account for untrusted
 * clients; the owner's browser still signs in and is shown how many attempts failed while they
 * were away, then continues where it was going. A fresh browser stays locked out.
 * Screenshots: test-artifacts/screenshots/auth-failed-attempts-*.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { collectProblems, launchBrowser, screenshot, signOutThroughMenu } from "../../helpers/browser.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, TEST_PASSWORD, type TestUser } from "../../helpers/users.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
let ctx: TestContext;
let base = "";
let user: TestUser;

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ sleep: async () => {} });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  user = await createUser(ctx, { displayName: "Away Owner" });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ctx?.close();
});

async function signInThroughForm(page: Page, password: string): Promise<void> {
  await page.goto(`${base}/login?next=%2Fsettings%2Fsecurity`);
  await page.fill("#f-username", user.username);
  await page.fill("#f-password", password);
  await page.click('[data-testid="login-submit"]');
}

describe.skipIf(!browser)("failed sign-in attempts in Chromium", () => {
  test("strangers lock untrusted clients; the owner's browser signs in and is told what happened", async () => {
    const trusted = await browser!.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: "reduce" });
    const page = await trusted.newPage();
    const problems = await collectProblems(page);

    // First sign-in: nothing to report, straight on; the browser becomes a trusted device.
    await signInThroughForm(page, TEST_PASSWORD);
    await page.waitForURL(`${base}/settings/security`);
    const device = (await trusted.cookies()).find((c) => c.name === "hearth_device");
    expect(device).toBeDefined();
    expect(device!.httpOnly).toBe(true);
    expect(device!.sameSite).toBe("Strict");
    expect(await page.evaluate(() => document.cookie)).not.toContain("hearth_device");
    await signOutThroughMenu(page);
    await page.waitForURL(`${base}/login`);

    // Strangers, elsewhere: ten wrong passwords lock the account for untrusted clients.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: user.username, password: `guess number ${i}` }) });
      statuses.push(res.status);
    }
    expect(statuses[9]).toBe(423);

    // The owner's browser still signs in, and sees the notice before going on.
    await signInThroughForm(page, TEST_PASSWORD);
    const notice = await page.waitForSelector('[data-testid="failed-attempts-notice"]');
    expect(await notice.textContent()).toContain("10 failed sign-in attempts since your last sign-in");
    expect(await notice.getAttribute("role")).toBe("alert");
    await screenshot(page, "auth-failed-attempts-desktop");
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, "auth-failed-attempts-phone");
    await page.click('[data-testid="failed-attempts-continue"]');
    await page.waitForURL(`${base}/settings/security`);

    // Shown once: signing out and in again goes straight through.
    await signOutThroughMenu(page);
    await page.waitForURL(`${base}/login`);
    await signInThroughForm(page, TEST_PASSWORD);
    await page.waitForURL(`${base}/settings/security`);
    expect(problems.all()).toEqual([]);
    await trusted.close();

    // A browser that never signed in as this user is locked out, even with the right password.
    const fresh = await browser!.newContext({ reducedMotion: "reduce" });
    const other = await fresh.newPage();
    await signInThroughForm(other, TEST_PASSWORD);
    const banner = await other.waitForSelector(".error-banner");
    expect(await banner.textContent()).toContain("Too many failed attempts");
    await fresh.close();
  });
});
