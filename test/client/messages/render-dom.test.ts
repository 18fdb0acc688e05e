/**
 * The message renderer in Chromium under the app's CSP: hostile decrypted text must produce only
 * allowlisted elements, no event-handler attributes, no unsafe links, and run no script.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { collectProblems, launchBrowser, screenshot } from "../../helpers/browser.ts";
import { CONTENT_SECURITY_POLICY } from "../../../src/http/security-headers.ts";

// Launched before the tests are declared so they are skipped (launchBrowser prints why), not
// passed with no assertion, when Chromium is missing.
const browser: Browser | null = await launchBrowser();
let server: ReturnType<typeof Bun.serve> | undefined;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), "hearth-render-"));

beforeAll(async () => {
  if (!browser) return;
  const built = await Bun.build({ entrypoints: [join(import.meta.dir, "render-entry.ts")], outdir: dir, target: "browser", format: "esm", naming: "render.js" });
  if (!built.success) throw new AggregateError(built.logs);
  const html = `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/render.js"></script></head><body><div id="out"></div></body></html>`;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      const headers = { "content-security-policy": CONTENT_SECURITY_POLICY };
      if (path === "/render.js") return new Response(Bun.file(join(dir, "render.js")), { headers: { ...headers, "content-type": "text/javascript" } });
      return new Response(html, { headers: { ...headers, "content-type": "text/html" } });
    },
  });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const ALLOWED = new Set(["P", "BR", "STRONG", "EM", "S", "CODE", "PRE", "BLOCKQUOTE", "UL", "OL", "LI", "A", "SPAN"]);

test.skipIf(!browser)("hostile markdown renders as inert text and safe elements only", async () => {
  const problems = await collectProblems(page);
  await page.goto(`http://127.0.0.1:${server!.port}/`);
  await page.waitForFunction(() => typeof window.renderMessageInto === "function");
  const hostile = [
    "**Hello** @alice and @ghost, see https://example.com and [docs](https://example.com/docs) :tada:",
    "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned=2\">",
    '"><svg onload=window.__pwned=3>',
    "[click me](javascript:window.__pwned=4)",
    "<javascript:window.__pwned=5>",
    "```html\n<iframe src=javascript:window.__pwned=6></iframe>\n```",
    "> quote with <b onclick=x>bold</b>\n- item [x](data:text/html,hi)",
  ].join("\n\n");
  await page.evaluate(([text]) => window.renderMessageInto("out", text!, "alice"), [hostile]);
  const report = await page.evaluate(() => {
    const out = document.getElementById("out")!;
    const elements = [...out.querySelectorAll("*")];
    return {
      tags: [...new Set(elements.map((e) => e.tagName))],
      attributes: [...new Set(elements.flatMap((e) => [...e.attributes].map((a) => a.name)))],
      hrefs: [...out.querySelectorAll("a")].map((a) => a.getAttribute("href")),
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      text: out.textContent,
      selfMention: out.querySelector(".mention--self")?.textContent ?? null,
      ghostIsText: !out.querySelector(".mention:not(.mention--self)") || [...out.querySelectorAll(".mention")].every((m) => m.textContent !== "@ghost"),
    };
  });
  expect(report.pwned).toBeNull();
  expect(report.tags.every((t) => ALLOWED.has(t))).toBe(true);
  expect(report.attributes.filter((a) => !["href", "rel", "target", "class", "title", "data-language"].includes(a))).toEqual([]);
  expect(report.hrefs).toEqual(["https://example.com/", "https://example.com/docs"]);
  // Markup arrives as text (underscores may still act as emphasis, which is harmless).
  expect(report.text).toContain("<script>window.");
  expect(report.text).toContain("</script><img src=x onerror=");
  expect(report.text).toContain("<iframe src=javascript:window.__pwned=6></iframe>");
  expect(report.selfMention).toBe("@alice");
  expect(report.ghostIsText).toBe(true);
  await Bun.sleep(50); // let any (wrongly) injected image error handler fire before checking
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null)).toBeNull();
  expect(problems.all()).toEqual([]);
  await screenshot(page, "message-render-hostile");
});

test.skipIf(!browser)("the issue's 39 KB message (`_a ` × 13,000) renders in full; the time it took is reported, not asserted", async () => {
  await page.goto(`http://127.0.0.1:${server!.port}/`);
  await page.waitForFunction(() => typeof window.renderMessageInto === "function");
  const input = "_a ".repeat(13_000);
  const result = await page.evaluate(([text]) => {
    const runs: number[] = []; // the first is what a reader's tab pays (cold); the others run warm
    for (let k = 0; k < 3; k++) {
      const started = performance.now();
      window.renderMessageInto("out", text!);
      runs.push(performance.now() - started);
    }
    const out = document.getElementById("out")!;
    return { runs, text: out.textContent, elements: out.querySelectorAll("*").length };
  }, [input]);
  // The bound itself is test/client/messages/markdown-linear.test.ts (work counted, not timed).
  console.log(`Chromium: parse + render of "_a " x 13000 (${input.length} characters): ${result.runs.map((ms) => `${ms.toFixed(1)} ms`).join(", then ")}`);
  expect(result.text).toBe(input);
  expect(result.elements).toBe(1); // one <p>: no delimiter in it has a valid closer
});

test.skipIf(!browser)("@everyone / @here render as the reader's mention only when the message carries that permitted mention", async () => {
  const render = (mentionAll: string | null) =>
    page.evaluate(([all]) => {
      window.renderMessageInto("out", "hey @everyone and @here", "alice", all);
      return [...document.querySelectorAll("#out .mention--self")].map((m) => m.textContent);
    }, [mentionAll] as const);
  expect(await render(null)).toEqual([]);
  expect(await render("everyone")).toEqual(["@everyone"]);
  expect(await render("here")).toEqual(["@here"]);
});
