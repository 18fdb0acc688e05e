// Public images in real Chromium (issue 17 §2–§4): an avatar uploaded from Settings › Profile with
// the keyboard square crop (the server gets the square the keys chose), the not-E2EE note beside
// the control; a custom emoji added on the community's Appearance settings; in the chat, the
// emoji picker's community tab by keyboard inserts `:shortcode:`, and the sent message shows the
// image. At 1280 and 360 px: no CSP violation, no serious axe violation, no sideways scrolling.
// launchBrowser prints "[skip]" when Chromium is missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../helpers/chat-e2e.ts";
import { setActivityInterval } from "../../src/features/messages/index.ts";

const browser: Browser | null = await launchBrowser();
const WAIT = { timeout: 30_000 };
let ctx: TestContext;
let base = "";
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 60_000);

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

/** 400 × 200: the left half red, the right half blue. */
async function halfAndHalf(): Promise<Buffer> {
  const left = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  return sharp({ create: { width: 400, height: 200, channels: 3, background: { r: 0, g: 0, b: 255 } } }).composite([{ input: left, left: 0, top: 0 }]).png().toBuffer();
}

async function imageBytes(page: Page, url: string): Promise<Buffer> {
  const bytes = await page.evaluate(async (u) => [...new Uint8Array(await (await fetch(u)).arrayBuffer())], url);
  return Buffer.from(bytes);
}

async function checkPage(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
  expect(await seriousAxeViolations(page)).toEqual([]);
}

describe.skipIf(!browser)("avatars, community emoji and the picker", () => {
  for (const viewport of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 360, height: 740 },
  ]) {
    test(`at ${viewport.width} px: avatar with a keyboard crop; an emoji added and used from the picker's community tab`, async () => {
      const call = apiCaller(ctx);
      const world = await aliceAndBobInCommunity(ctx, call, `Faces ${viewport.name}`);
      const { page, problems } = await openSignedIn(browser!, ctx, base, world.alice, { track: opened, viewport: { width: viewport.width, height: viewport.height } });

      // Settings › Profile: the avatar control with its note; choose, move the crop right by keyboard, upload.
      await page.goto(`${base}/settings/account`, { waitUntil: "load" });
      await page.getByText("Not end-to-end encrypted").first().waitFor(WAIT);
      await page.getByLabel("Avatar: choose an image").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: await halfAndHalf() });
      const crop = page.getByRole("img", { name: /Crop preview/ });
      await crop.waitFor(WAIT);
      await crop.focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+ArrowRight");
      await page.getByText("Square of 200 px at 160, 0.").waitFor(WAIT);
      for (let i = 0; i < 2; i++) await page.keyboard.press("Shift+ArrowRight");
      await page.getByText("Square of 200 px at 200, 0.").waitFor(WAIT);
      await page.getByRole("button", { name: "Upload" }).click();
      await page.getByRole("status").filter({ hasText: "Saved." }).waitFor(WAIT);
      const current = page.getByRole("img", { name: "Current avatar" });
      await current.waitFor(WAIT);
      const src = (await current.getAttribute("src"))!;
      expect(src).toMatch(/^\/media\/[0-9a-f-]+\/[0-9a-f]{64}\.webp$/);
      const stats = await sharp(await imageBytes(page, src)).stats();
      expect(stats.channels[2]!.mean).toBeGreaterThan(200); // the right (blue) square, as the keys chose
      expect(stats.channels[0]!.mean).toBeLessThan(50);
      await screenshot(page, `profile-avatar-${viewport.name}`);
      await checkPage(page);

      // The community's Appearance settings: add an emoji.
      await page.goto(`${base}/c/${world.communityId}/settings/appearance`, { waitUntil: "load" });
      await page.getByLabel("Shortcode").fill("hearth_flame");
      await page.getByLabel("New emoji: choose an image").setInputFiles({ name: "flame.png", mimeType: "image/png", buffer: await sharp({ create: { width: 64, height: 64, channels: 3, background: "#f60" } }).png().toBuffer() });
      await page.locator("[data-emoji-manager]").getByRole("button", { name: "Upload" }).click();
      await page.getByText(":hearth_flame:").waitFor(WAIT);
      await page.getByText("1 of 50").waitFor(WAIT);
      await screenshot(page, `community-appearance-${viewport.name}`);
      await checkPage(page);

      // The chat: the picker's community tab by keyboard inserts :hearth_flame:, the message shows the image.
      await page.goto(`${base}${world.channelPath}`, { waitUntil: "load" });
      await page.waitForSelector("[data-chat-ready]", WAIT);
      await page.getByRole("button", { name: "Create a poll" }).waitFor(WAIT);
      await page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
      await page.getByRole("button", { name: "Insert emoji" }).click();
      const tab = page.getByRole("tab", { name: `Faces ${viewport.name}` });
      await tab.waitFor(WAIT);
      await page.keyboard.press("Shift+Tab"); // from the search field to the selected tab ("Emoji")
      await page.keyboard.press("ArrowRight");
      expect(await tab.getAttribute("aria-selected")).toBe("true");
      await page.keyboard.press("Tab"); // the search field
      await page.keyboard.press("ArrowDown"); // the grid
      await page.keyboard.press("Enter");
      const input = page.locator("#composer-input");
      expect(await input.inputValue()).toContain(":hearth_flame:");
      await input.press("Enter");
      await page.locator(".msg__text img.custom-emoji[alt=':hearth_flame:']").waitFor(WAIT);
      await screenshot(page, `chat-custom-emoji-${viewport.name}`);
      expect(problems.all()).toEqual([]);
    }, 120_000);
  }
});
