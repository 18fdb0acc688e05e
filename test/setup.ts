/**
 * Test preload (bunfig.toml). bun runs it once per process: once for a plain `bun test`, once per
 * worker with --parallel. It makes sure the client bundle matches the sources (rebuilding only a
 * stale build, under a lock, so concurrent runs never delete files another run is serving).
 * `.ci/run` builds before the run, so here it is only a check. Databases are prepared lazily by
 * test/helpers/db.ts, so pure unit tests pay nothing for them; the run's template is dropped at
 * the end.
 */
import { afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { ensureClientBuild } from "../scripts/build.ts";

// The per-test timeout comes from the command line (`bun test --timeout 60000`, the README's
// command): neither bunfig.toml's [test] timeout nor setDefaultTimeout() here reaches beyond the
// first test file in bun 1.4 (oven-sh/bun#43787), so files would silently run on the 5 s default.
// process.argv does not carry bun's own flags; /proc does (Linux; elsewhere nothing is checked).
const commandLine = (() => {
  try {
    return readFileSync("/proc/self/cmdline", "utf8").split("\0");
  } catch {
    return undefined;
  }
})();
if (commandLine && !commandLine.some((arg) => arg === "--timeout" || arg.startsWith("--timeout="))) {
  console.warn("[setup] no --timeout given: tests run on bun's 5 s default. Use the README's command: bun test --timeout 60000");
}

await ensureClientBuild();

// A hook in the preload runs once, after the last file: the run's PostgreSQL template goes with it.
afterAll(async () => {
  const { dropRunTemplate } = await import("./helpers/db.ts");
  await dropRunTemplate();
});
