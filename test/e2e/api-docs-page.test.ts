// GET /help/api in real Chromium: renders under the strict CSP with no violation, no serious
// axe-core violation, no sideways scrolling at 360 px, the document link reachable by keyboard.
// Screenshots at 1280 and 360 px go to test-artifacts/screenshots/ (launchBrowser prints "[skip]"
// when Chromium is missing).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { collectProblems, launchBrowser, screenshot } from "../helpers/browser.ts";

setDefaultTimeout(90_000);

const browser: Browser | null = await launchBrowser();
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

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

async function axeSerious(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, not as page script, so the strict CSP stays on.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}`));
  });
}

describe.skipIf(!browser)("the API reference page", () => {
  for (const viewport of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 360, height: 740 },
  ]) {
    test(`at ${viewport.width} px: no CSP violation, no serious axe violation, no sideways scroll`, async () => {
      const context = await browser!.newContext({ viewport: { width: viewport.width, height: viewport.height } });
      try {
        const page = await context.newPage();
        const problems = await collectProblems(page);
        const response = await page.goto(`${base}/help/api`, { waitUntil: "load", timeout: 30_000 });
        expect(response?.status()).toBe(200);
        await page.waitForSelector("h1", { timeout: 30_000 });
        expect(await page.locator("h3 code", { hasText: "GET /api/openapi.json" }).count()).toBe(1);
        await screenshot(page, `api-docs-${viewport.name}`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
        expect(await axeSerious(page)).toEqual([]);
        // The document link is reachable with Tab (a link, not a script-driven control).
        let reached = false;
        for (let i = 0; i < 40 && !reached; i++) {
          await page.keyboard.press("Tab");
          reached = await page.evaluate(() => document.activeElement?.getAttribute("href") === "/api/openapi.json");
        }
        expect(reached).toBe(true);
        expect(problems.all()).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
