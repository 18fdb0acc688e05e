/**
 * docs/permissions.md shows the matrices `bun scripts/permissions-matrix.ts` prints from can() and
 * decideChange(): a rule change that is not re-documented fails here.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

test("the permission matrices in docs/permissions.md are the generated ones", () => {
  const run = Bun.spawnSync(["bun", "scripts/permissions-matrix.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  const tables = run.stdout.toString().trim().split("\n\n");
  expect(tables).toHaveLength(2);
  const doc = readFileSync(resolve(ROOT, "docs/permissions.md"), "utf8");
  for (const table of tables) expect(doc.includes(table)).toBe(true);
});
