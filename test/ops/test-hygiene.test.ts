// Rules every test file follows so that CI results can be trusted (DESIGN.md "Testing"): a test
// that needs a missing part is skipped with a printed reason, never passed without asserting
// anything. Checked on the sources, so a new file breaking a rule fails here, not silently in CI.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "./helpers.ts";

function testFiles(dir = join(repoRoot, "test")): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return /\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

const files = testFiles().map((path) => ({ path: relative(repoRoot, path), text: readFileSync(path, "utf8") }));

describe("test files", () => {
  test("there are test files to check", () => {
    expect(files.length).toBeGreaterThan(50);
  });

  test("no test returns early when a part is missing (it would pass with no assertion): skip it instead", () => {
    // A test callback whose first statement is `if (!x) return;`.
    const earlyReturn = /\b(?:test|it)(?:\.\w+)?\([^\n]*=>\s*\{\s*\n\s*if \(![\w.]+\) return;/g;
    const offenders = files.flatMap((f) => [...f.text.matchAll(earlyReturn)].map((m) => `${f.path}: ${m[0].split("\n")[0]!.slice(0, 100)}`));
    expect(offenders).toEqual([]);
  });

  test("no test or hook sets a timeout below the run's (bun test --timeout 60000): a loaded machine turns those into failures", () => {
    const below = (literal: string) => Number(literal.replaceAll("_", "")) < 60_000;
    const offenders = files.flatMap((f) =>
      [...f.text.matchAll(/^\s*\}, (\d[\d_]*)\);$|setDefaultTimeout\((\d[\d_]*)\)|\}, \{ timeout: (\d[\d_]*) \}\);$/gm)]
        .filter((m) => below(m[1] ?? m[2] ?? m[3]!))
        .map((m) => `${f.path}: ${m[0].trim()}`),
    );
    expect(offenders).toEqual([]);
  });

  test("every file that skips prints why", () => {
    const skips = /\.(?:skipIf|skip)\(/;
    // launchBrowser(…) prints the reason itself when Chromium is missing (with or without extra flags).
    const printsReason = (text: string) => /console\.(?:log|warn)\([^;]*skip/i.test(text) || /\blaunchBrowser\(/.test(text);
    expect(files.filter((f) => skips.test(f.text) && !printsReason(f.text)).map((f) => f.path)).toEqual([]);
  });
});
