// Settings › API tokens in real Chromium (issue 16 §3): reached from the settings navigation,
// create a token by keyboard, the secret shown once and copied by its button, the list without
// it, revoke through the confirmation; no CSP violation, no serious axe violation, no sideways
// scrolling at 1280 and 360 px. launchBrowser prints "[skip]" when Chromium is missing.
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

describe.skipIf(!browser)("Settings › API tokens", () => {
  for (const viewport of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 360, height: 740 },
  ]) {
    test(`at ${viewport.width} px: create by keyboard, copy once, revoke with a confirmation`, async () => {
      const user = await createUser(ctx);
      const track: BrowserContext[] = [];
      const { page, problems } = await openSignedIn(browser!, ctx, base, user, {
        track,
        viewport: { width: viewport.width, height: viewport.height },
        beforePage: (context) => context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base }),
      });
      try {
        await page.goto(`${base}/settings/account`, { waitUntil: "load" });
        await page.getByRole("link", { name: "API tokens" }).click();
        await page.waitForURL(`${base}/settings/tokens`);
        await page.getByLabel("Name").fill(`deploy bot ${viewport.name}`);
        await page.getByLabel(/^Write:/).check();
        await page.getByLabel("Name").focus();
        await page.keyboard.press("Enter");
        const secret = (await page.getByTestId("token-secret").textContent())!.trim();
        expect(secret).toMatch(/^hth_pat_[A-Za-z0-9_-]{43}$/);
        await page.getByRole("button", { name: "Copy token" }).click();
        await page.getByRole("button", { name: "Copied" }).waitFor();
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
        // The token works for the API.
        const me = await fetch(`${base}/api/account/me`, { headers: { authorization: `Bearer ${secret}` } });
        expect(me.status).toBe(200);
        await screenshot(page, `access-tokens-${viewport.name}`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
        expect(await seriousAxeViolations(page)).toEqual([]);
        // Reload: the list names the token, never its secret.
        await page.goto(`${base}/settings/tokens`, { waitUntil: "load" });
        const list = page.getByTestId("tokens-list");
        await expect(list.textContent()).resolves.toContain(`deploy bot ${viewport.name}`);
        expect(await page.content()).not.toContain(secret);
        await page.getByRole("button", { name: `Revoke token deploy bot ${viewport.name}` }).click();
        await page.getByRole("dialog").getByRole("button", { name: "Revoke token" }).click();
        await page.waitForURL(/saved=token_revoked/);
        expect(await page.getByTestId("tokens-list").textContent()).not.toContain(`deploy bot ${viewport.name}`);
        expect((await fetch(`${base}/api/account/me`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
        expect(problems.all()).toEqual([]);
      } finally {
        for (const context of track) await context.close();
      }
    });
  }
});
