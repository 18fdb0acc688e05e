// Local encrypted search in Chromium (docs/search.md, docs/decisions/0011): the real index
// (src/client/search) over N synthetic messages (Zipf words from a 20,000-word vocabulary, 4–19
// words each, 20 channels): indexing rate (keying + encrypting + storing), stored bytes per
// 1,000 messages, reload time, and search latency p50/p99 (one- and two-word queries and an
// `in:` filter) against a plain unencrypted in-memory scan of the same messages in the same
// page (the baseline). The page is cross-origin isolated so performance.now() has fine steps.
// Run: bun scripts/bench/search-browser.ts [--sizes 10000,100000] [--queries 200] [--throttle 4]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchBrowser } from "../../test/helpers/browser.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const sizes = arg("sizes", "10000,100000").split(",").map(Number);
const queries = Number(arg("queries", "200"));
const throttle = Number(arg("throttle", "1"));

const dir = mkdtempSync(join(tmpdir(), "hearth-search-bench-"));
const built = await Bun.build({ entrypoints: [join(import.meta.dir, "search-page.ts")], outdir: dir, target: "browser", format: "esm", minify: true });
if (!built.success) throw new AggregateError(built.logs, "bundling the bench page failed");
const bundle = readFileSync(built.outputs[0]!.path);
const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) =>
    new URL(req.url).pathname === "/bench.js"
      ? new Response(bundle, { headers: { ...headers, "Content-Type": "text/javascript" } })
      : new Response('<!doctype html><title>search bench</title><script type="module" src="/bench.js"></script>', { headers: { ...headers, "Content-Type": "text/html" } }),
});

const browser = await launchBrowser();
if (!browser) {
  console.log("skip: needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH)");
  process.exit(0);
}
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.waitForFunction(() => "searchBench" in globalThis);
  if (throttle > 1) await (await page.context().newCDPSession(page)).send("Emulation.setCPUThrottlingRate", { rate: throttle });
  const isolated = await page.evaluate(() => crossOriginIsolated);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rows: any[] = await page.evaluate(({ sizes, queries }) => (globalThis as any).searchBench(sizes, queries), { sizes, queries });
  console.log(`Chromium, CPU throttle ${throttle}×, cross-origin isolated: ${isolated}; ${queries} queries per size`);
  const f = (x: number) => (x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(1) : Math.round(x).toString());
  for (const r of rows) {
    console.log(`${r.size} messages: index ${f(r.docsPerSec)} msgs/s (${f(r.indexMs / 1000)} s), stored ${f(r.bytesPer1000 / 1024)} KiB per 1,000 (their text: ${f(r.textBytesPer1000 / 1024)} KiB), reload ${f(r.loadMs)} ms`);
    console.log(`  search p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms; plain in-memory scan p50 ${f(r.scanP50)} ms, p99 ${f(r.scanP99)} ms (index/scan p50 ×${f(r.p50 / Math.max(r.scanP50, 0.001))}); result counts agree ${r.agree}/${r.queries}`);
  }
} finally {
  await browser.close();
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
}
