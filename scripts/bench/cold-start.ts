/**
 * Cold start on the embedded database: wall time from spawning `bun src/main.ts` to the
 * "server.listening" log line, on a fresh DATA_DIR (initdb + migrations + secrets) and on a
 * reopened one (a restart). Prints min/median/max over a few runs.
 *
 *   bun scripts/bench/cold-start.ts [--runs 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnHearth } from "../../test/helpers/process.ts";
import { ensureClientBuild } from "../build.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

async function startOnce(dataDir: string): Promise<number> {
  const t0 = performance.now();
  const hearth = spawnHearth({ env: { LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, LOG_LEVEL: "info" } });
  await hearth.ready(120_000);
  const ms = performance.now() - t0;
  await hearth.stop();
  return ms;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0]!.toFixed(0)} ms, median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms`;
};

await ensureClientBuild(); // a fresh clone has no build; a current one is kept
const fresh: number[] = [];
const reopened: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-cold-"));
  try {
    fresh.push(await startOnce(dir));
    reopened.push(await startOnce(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`cold start to listening, embedded PGlite, ${RUNS} runs`);
console.log(`fresh DATA_DIR   : ${stats(fresh)}`);
console.log(`reopened DATA_DIR: ${stats(reopened)}`);
