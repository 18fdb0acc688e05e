// Link previews made by the sender (issue 18 §3, docs/integrations.md) in two browsers: Alice
// types a link; her composer shows the preview the server fetched (from a loopback test page,
// admitted by an injected resolver and policy) with "Remove preview"; she sends; Bob sees the
// card from the decrypted message, and the page was fetched exactly once (by the server, for
// Alice: Bob's browser fetched nothing). A removed preview is not sent. With previews turned off,
// Alice's composer asks nothing.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted } from "../helpers/chat-e2e.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: the link-preview browser test needs Chromium (/usr/bin/chromium)");
const WAIT = { timeout: 30_000 };
const RUN = crypto.randomUUID().slice(0, 8);

let ctx: TestContext;
let base = "";
let page: ReturnType<typeof Bun.serve> | undefined;
const fetched: string[] = [];
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  page = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      fetched.push(new URL(req.url).pathname);
      return new Response(`<html><head><title>ignored</title><meta property="og:title" content="Release notes <script>x</script>"><meta property="og:description" content="What changed in ${RUN}"><meta property="og:site_name" content="Preview site"></head></html>`, { headers: { "content-type": "text/html" } });
    },
  });
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  // Only the loopback test page is admitted: "preview.test" resolves to it, nothing else resolves.
  ctx.deps.linkPreviewPolicy = { resolve: async (name) => (name === "preview.test" ? ["127.0.0.1"] : Promise.reject(new Error("no"))), allowAddress: (ip) => ip === "127.0.0.1", allowPort: () => true };
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  page?.stop(true);
  await ctx?.close();
});

async function openChat(p: Page, path: string): Promise<void> {
  expect((await p.goto(`${base}${path}`, { waitUntil: "load" }))?.status()).toBe(200);
  await p.waitForSelector("[data-chat-ready]", WAIT);
  await p.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
}

describe.skipIf(!browser)("link previews made by the sender", () => {
  test("the composer's card travels encrypted; the reader renders it and fetches nothing; a removed card is not sent", async () => {
    const call = apiCaller(ctx);
    const crew = await aliceAndBobInCommunity(ctx, call, "Preview crew");
    const alice = await openSignedIn(browser!, ctx, base, crew.alice, { track: opened });
    const bob = await openSignedIn(browser!, ctx, base, crew.bob, { track: opened });
    await openChat(alice.page, crew.channelPath);
    await openChat(bob.page, crew.channelPath);
    const link = `http://preview.test:${page!.port}/notes-${RUN}`;
    const input = alice.page.locator("#composer-input");
    await input.pressSequentially(`Read ${link} `, { delay: 5 });
    const draft = alice.page.locator("[data-link-preview]");
    await draft.waitFor(WAIT);
    expect(await draft.locator(".link-preview__title").textContent()).toBe("Release notes <script>x</script>");
    expect(await draft.textContent()).toContain("the server, which learns this link");
    await screenshot(alice.page, "link-preview-composer");
    await input.press("Enter");
    await seesDecrypted(bob.page, `Read ${link}`, WAIT);
    const card = bob.page.locator(".msg .link-preview", { hasText: `What changed in ${RUN}` });
    await card.waitFor(WAIT);
    expect(await card.locator("a").getAttribute("href")).toBe(link);
    expect(await card.locator("script, img").count()).toBe(0);
    expect(await alice.page.locator("[data-link-preview]").count()).toBe(0); // the draft card went with the send
    expect(fetched).toEqual([`/notes-${RUN}`]); // once, by the server for Alice

    // Removed before sending: the message carries no preview.
    const second = `http://preview.test:${page!.port}/other-${RUN}`;
    await input.pressSequentially(`Also ${second} `, { delay: 5 });
    await draft.waitFor(WAIT);
    await draft.getByRole("button", { name: "Remove preview" }).click();
    expect(await alice.page.locator("[data-link-preview]").count()).toBe(0);
    await input.press("Enter");
    await seesDecrypted(bob.page, `Also ${second}`, WAIT);
    const row = bob.page.locator(".msg", { hasText: `Also ${second}` });
    expect(await row.locator(".link-preview").count()).toBe(0);
    expect(alice.problems.all()).toEqual([]);
    expect(bob.problems.all()).toEqual([]);
  });
});
