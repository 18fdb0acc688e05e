/**
 * CI: reads bun's JUnit report (`bun test --reporter=junit --reporter-outfile=…`) and prints
 *  - the slowest test files: the file-level <testsuite> (name = file, no `line`; describe blocks
 *    are nested suites with a `line`) has the file's wall time in seconds, hooks included;
 *  - passing tests that made no assertion (bun counts expect() calls per test): a test that
 *    returned early, e.g. when a part was missing, reports a pass it did not earn.
 * Usage: bun .ci/junit-report.ts <junit.xml> [count]
 */
import { readFileSync } from "node:fs";

export type FileTiming = { file: string; seconds: number; tests: number; failures: number; skipped: number };

const attribute = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/** Per-file timings from a JUnit report, slowest first. */
export function readFileTimings(xml: string): FileTiming[] {
  const timings: FileTiming[] = [];
  for (const [tag] of xml.matchAll(/<testsuite\s[^>]*>/g)) {
    const file = attribute(tag, "file") ?? attribute(tag, "name");
    if (!file || attribute(tag, "line") !== undefined) continue; // a describe block inside a file
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

/** Tests that passed (not skipped, not failed) with zero expect() calls, as "file: name". */
export function readUnassertedPasses(xml: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(/<testcase\s[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const tag = m[0].slice(0, m[0].indexOf(">") + 1);
    const body = m[2] ?? "";
    if (attribute(tag, "assertions") !== "0" || /<(failure|error|skipped)\b/.test(body)) continue;
    out.push(`${attribute(tag, "file") ?? "?"}: ${unescapeXml(attribute(tag, "name") ?? "?")}`);
  }
  return out;
}

function unescapeXml(text: string): string {
  return text.replace(/&(apos|quot|lt|gt|amp);/g, (_, e: string) => ({ apos: "'", quot: '"', lt: "<", gt: ">", amp: "&" })[e]!);
}

if (import.meta.main) {
  const [path, count = "10"] = process.argv.slice(2);
  if (!path) throw new Error("usage: bun .ci/junit-report.ts <junit.xml> [count]");
  const xml = readFileSync(path, "utf8");
  console.log(formatSlowest(readFileTimings(xml), Number(count)));
  const unasserted = readUnassertedPasses(xml);
  if (unasserted.length > 0) {
    console.log(`\n${unasserted.length} passing test(s) made no assertion (a skipped part must skip, not pass):`);
    for (const line of unasserted) console.log(`  ${line}`);
  }
}
