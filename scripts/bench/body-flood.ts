/**
 * The body flood of issue 10 (finding 2) against a real server process: N concurrent requests of
 * M MB each from one client, half declared (Content-Length) and half chunked, over routes that
 * take bodies; another client keeps calling /health meanwhile. Prints the server's RSS before,
 * at the peak and after, and what every request got.
 *
 *   bun scripts/bench/body-flood.ts [--requests 50] [--mb 100] [--dir <checkout>] [--stop-at-mb 8192]
 *
 * --dir runs another checkout's `bun src/main.ts` (e.g. an export of main, to compare); the flood
 * stops early once the server grew by --stop-at-mb, so a vulnerable build cannot exhaust the box.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { REPO_ROOT, spawnHearth } from "../../test/helpers/process.ts";
import { describeFlood, runBodyFlood } from "../../test/helpers/body-flood.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const requests = Number(arg("requests", "50"));
const bytes = Number(arg("mb", "100")) * 1000 * 1000;
const dir = resolve(arg("dir", REPO_ROOT));
const stopAt = Number(arg("stop-at-mb", "8192")) * 1024 * 1024;

// The server serves pages: a fresh clone has no public/build yet (another checkout builds its own).
if (dir === REPO_ROOT) {
  const { ensureClientBuild } = await import("../build.ts");
  await ensureClientBuild();
}
const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-flood-"));
const hearth = spawnHearth({ cwd: dir, env: { LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, LOG_LEVEL: "info" } });
try {
  const url = await hearth.ready(120_000);
  const report = await runBodyFlood(url, hearth.proc.pid, { requests, bytes, stopAtGrowthBytes: stopAt });
  console.log(`body flood: ${requests} × ${bytes / 1e6} MB from one client against ${dir}`);
  console.log(describeFlood(report));
} finally {
  await hearth.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
