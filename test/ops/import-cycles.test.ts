// The house rule of issue 16 §8: src/app.ts imports every feature, so nothing a feature imports
// may import src/app.ts back. Features take their dependency type from src/deps.ts and the client
// IP from src/http/request-context.ts. Checked on the source text (type-only imports included)
// and on the runtime import graph (Bun's transpiler, which drops type-only imports): no cycle runs
// through src/app.ts.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const files = [...new Bun.Glob("src/**/*.{ts,tsx}").scanSync({ cwd: root })].sort();
const APP = "src/app.ts";

/** Relative imports of a file, resolved to repository paths (runtime only, or every import). */
function importsOf(file: string, runtimeOnly: boolean): string[] {
  const code = readFileSync(join(root, file), "utf8");
  const specifiers = runtimeOnly
    ? new Bun.Transpiler({ loader: file.endsWith(".tsx") ? "tsx" : "ts" }).scanImports(code).map((i) => i.path)
    : [...code.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith(".")).map((s) => relative(root, resolve(root, dirname(file), s)));
}

describe("no import cycle through src/app.ts", () => {
  test("only src/main.ts imports src/app.ts (type-only imports included)", () => {
    const importers = files.filter((f) => f !== APP && importsOf(f, false).includes(APP));
    expect(importers).toEqual(["src/main.ts"]);
  });

  test("nothing src/app.ts reaches at run time leads back to it", () => {
    const graph = new Map(files.map((f) => [f, importsOf(f, true)]));
    expect(graph.get(APP)!.length).toBeGreaterThan(20); // the scan sees the features
    const seen = new Set<string>();
    const stack = [...graph.get(APP)!];
    const back: string[] = [];
    while (stack.length > 0) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const next of graph.get(file) ?? []) {
        if (next === APP) back.push(file);
        else if (!seen.has(next)) stack.push(next);
      }
    }
    expect(seen.size).toBeGreaterThan(100);
    expect(back).toEqual([]);
  });
});
