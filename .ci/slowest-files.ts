/**
 * CI: prints the slowest test files from bun's JUnit report (`bun test --reporter=junit
 * --reporter-outfile=…`): one <testsuite> per file whose `time` is the file's wall time in
 * seconds, hooks included. Usage: bun .ci/slowest-files.ts <junit.xml> [count]
 */
import { readFileSync } from "node:fs";

export type FileTiming = { file: string; seconds: number; tests: number; failures: number; skipped: number };

const attribute = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/** Per-file timings from a JUnit report, slowest first. */
export function readFileTimings(xml: string): FileTiming[] {
  const timings: FileTiming[] = [];
  for (const [tag] of xml.matchAll(/<testsuite\s[^>]*>/g)) {
    const file = attribute(tag, "file") ?? attribute(tag, "name");
    if (!file) continue;
    timings.push({
      file,
      seconds: Number(attribute(tag, "time") ?? 0),
      tests: Number(attribute(tag, "tests") ?? 0),
      failures: Number(attribute(tag, "failures") ?? 0),
      skipped: Number(attribute(tag, "skipped") ?? 0),
    });
  }
  return timings.sort((a, b) => b.seconds - a.seconds);
}

export function formatSlowest(timings: FileTiming[], count: number): string {
  const rows = timings.slice(0, count);
  const width = Math.max(4, ...rows.map((r) => r.file.length));
  const lines = [`${"file".padEnd(width)}  ${"seconds".padStart(8)}  tests`];
  for (const r of rows) lines.push(`${r.file.padEnd(width)}  ${r.seconds.toFixed(1).padStart(8)}  ${String(r.tests).padStart(5)}`);
  const total = timings.reduce((sum, r) => sum + r.seconds, 0);
  lines.push(`${timings.length} files, ${total.toFixed(1)} s in files`);
  return lines.join("\n");
}

if (import.meta.main) {
  const [path, count = "10"] = process.argv.slice(2);
  if (!path) throw new Error("usage: bun .ci/slowest-files.ts <junit.xml> [count]");
  console.log(formatSlowest(readFileTimings(readFileSync(path, "utf8")), Number(count)));
}
