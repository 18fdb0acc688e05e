/**
 * Open redirect after sign-in, in real Chromium (security review, issue 10 item 5): the reviewer
 * signed in with `next=/%09/evil.example` and Chromium followed it to another host. Here the
 * "other host" is a second server on loopback that counts its visitors: after signing in with
 * hostile `next` values (through the htmx form, and as plain 303s when already signed in), the
 * browser is on the instance origin and the other server saw nobody.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../../helpers/browser.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, TEST_PASSWORD } from "../../helpers/users.ts";

setDefaultTimeout(60_000);

const browser: Browser | null = await launchBrowser();
let ctx: TestContext;
let base = "";
let elsewhere: ReturnType<typeof Bun.serve>;
let visitsElsewhere = 0;

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ sleep: async () => {} });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  elsewhere = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      visitsElsewhere++;
      return new Response("<h1>somewhere else</h1>", { headers: { "content-type": "text/html" } });
    },
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  elsewhere?.stop(true);
  await ctx?.close();
});

/** Hostile `next` values aimed at the other server (host:port without a scheme, as an attacker writes them). */
function hostileNexts(): string[] {
  const host = `127.0.0.1:${elsewhere.port}`;
  return [`/\t/${host}/`, `/\n/${host}/`, `/\\${host}/`, `/\\/${host}/`, `//${host}/`, `/.//${host}/`, `/\t\\${host}/`, ` //${host}/`, `\\\\${host}/`];
}

describe.skipIf(!browser)("sign-in with a hostile next, in Chromium", () => {
  test("the htmx sign-in form and the signed-in 303 both stay on the instance origin", async () => {
    const user = await createUser(ctx);
    const context = await browser!.newContext();
    const page = await context.newPage();
    const [first, ...rest] = hostileNexts();

    await page.goto(`${base}/login?next=${encodeURIComponent(first!)}`);
    await page.fill("#f-username", user.username);
    await page.fill("#f-password", TEST_PASSWORD);
    await page.click('[data-testid="login-submit"]');
    // Either outcome ends the wait: home on our origin (fixed) or the other server (the bug).
    await page.waitForURL((url) => (url.origin === base && url.pathname === "/") || url.port === String(elsewhere.port));
    expect(new URL(page.url()).origin).toBe(base);
    await page.waitForSelector('[data-testid="home"]');

    for (const next of rest) {
      await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
      await page.waitForURL((url) => (url.origin === base && url.pathname === "/") || url.port === String(elsewhere.port));
      expect([next, new URL(page.url()).origin]).toEqual([next, base]);
    }
    expect(visitsElsewhere).toBe(0);
    await context.close();
  });
});
