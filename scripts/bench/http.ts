/**
 * GET /api/health through the full stack (request id, client IP, rate limiter, router, DB ping,
 * security headers) vs a bare Bun.serve returning the same JSON, measured in the same run with
 * wrk (or a built-in fetch load generator when wrk is missing). Prints requests/s, p50/p99 and
 * the ratios. Loopback only; bounded duration.
 *
 *   bun scripts/bench/http.ts [--seconds 10] [--connections 32]   (DATABASE_URL=… for PostgreSQL)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/open.ts";
import { migrate } from "../../src/db/migrate.ts";
import { loadSecrets } from "../../src/secrets.ts";
import { loadAssets } from "../../src/http/assets.ts";
import { silentLogger } from "../../src/log.ts";
import { noEvents } from "../../src/db/tx.ts";
import { ensureClientBuild } from "../build.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg("seconds", 10);
const CONNECTIONS = arg("connections", 32);

type Result = { rps: number; p50ms: number; p99ms: number; tool: string };

function parseWrkLatency(text: string, pct: string): number {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

async function load(url: string): Promise<Result> {
  if (Bun.which("wrk")) {
    // Async spawn: the servers live in this process and must keep serving while wrk runs.
    const p = Bun.spawn(["wrk", "-t2", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", url], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    if (/Non-2xx/.test(out)) throw new Error(`non-2xx responses during the run:\n${out}`);
    return { rps, p50ms: parseWrkLatency(out, "50"), p99ms: parseWrkLatency(out, "99"), tool: "wrk" };
  }
  // Fallback: closed-loop fetch load from this process (less precise: shares the process).
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { rps: latencies.length / SECONDS, p50ms: at(0.5), p99ms: at(0.99), tool: "fetch" };
}

const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-http-"));
try {
  await ensureClientBuild(); // a fresh clone has no build; a current one is kept
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, NODE_ENV: "test", LOG_LEVEL: "error" });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  await migrate(database.db);
  const secrets = loadSecrets(config, silentLogger);
  // The full pipeline runs, the limiter included; its limits are set out of reach so the
  // benchmark measures cost, not refusals.
  const unlimited = { general: { ratePerSec: 1e9, burst: 1e9 }, auth: { ratePerSec: 1e9, burst: 1e9 } };
  const app = createApp({ config, database, log: silentLogger, secrets, events: noEvents, assets: loadAssets(config.staticDir), rateLimits: unlimited });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  const fullUrl = `http://127.0.0.1:${app.server!.port}/api/health`;

  const sample = await (await fetch(fullUrl)).text();
  const bare = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(sample, { headers: { "content-type": "application/json; charset=utf-8" } }),
  });
  const bareUrl = `http://127.0.0.1:${bare.port}/api/health`;

  await load(bareUrl); // warm-up both (JIT, connection pools)
  await load(fullUrl);
  const bareResult = await load(bareUrl);
  const fullResult = await load(fullUrl);

  console.log(`GET /api/health, ${SECONDS}s, ${CONNECTIONS} connections, tool=${fullResult.tool}, database=${database.kind}`);
  console.log(`bare Bun.serve : ${bareResult.rps.toFixed(0)} req/s  p50 ${bareResult.p50ms.toFixed(2)} ms  p99 ${bareResult.p99ms.toFixed(2)} ms`);
  console.log(`full stack     : ${fullResult.rps.toFixed(0)} req/s  p50 ${fullResult.p50ms.toFixed(2)} ms  p99 ${fullResult.p99ms.toFixed(2)} ms`);
  console.log(`ratio full/bare: throughput ${(fullResult.rps / bareResult.rps).toFixed(3)}  p99 ${(fullResult.p99ms / bareResult.p99ms).toFixed(2)}x`);
  bare.stop(true);
  await app.stop();
  await database.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
