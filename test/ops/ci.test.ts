// .ci/run is what lands changes: it must run the README's command with the timeout on the command
// line (bun 1.4 ignores bunfig.toml's and a preload's default past the first file), create the
// test database on a fresh PostgreSQL, and report per-file timings from bun's JUnit report.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { formatSlowest, readFileTimings, readUnassertedPasses } from "../../.ci/junit-report.ts";
import { TEST_DATABASE_URL } from "../helpers/db.ts";
import { readRepoFile, repoRoot } from "./helpers.ts";

const readme = readRepoFile("README.md");
const run = readRepoFile(".ci/run");
const work = mkdtempSync(join(tmpdir(), "hearth-ci-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the test command", () => {
  test("every `bun test` in the README passes --timeout, and .ci/run runs that command", () => {
    const commands = [...readme.matchAll(/^.*\bbun test\b.*$/gm)].map((m) => m[0]).filter((line) => !line.startsWith("`"));
    expect(commands.length).toBeGreaterThan(0);
    for (const line of commands) expect(line).toMatch(/bun test --timeout \d+/);
    const timeout = /bun test (--timeout \d+)/.exec(commands[0]!)![1]!;
    // Environment assignments may precede it (the run's marker).
    expect(run).toMatch(new RegExp(`^(?:[A-Z_]+=\\S+ )*bun test ${timeout} `, "m"));
  });

  test("package.json's test script is the README's command", async () => {
    const pkg = (await Bun.file(join(repoRoot, "package.json")).json()) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toMatch(/^bun test --timeout \d+$/);
  });
});

describe("the JUnit report", () => {
  // A real bun run: a file with a slow hook and a describe block, a quick file with a test that
  // asserts, one that asserts nothing, and one that is skipped.
  const report = join(work, "junit.xml");
  const dir = join(work, "suite");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "slow.test.ts"), `import { beforeAll, describe, expect, test } from "bun:test";\nbeforeAll(() => Bun.sleep(300));\ndescribe("block", () => {\n  test("a", () => expect(1).toBe(1));\n  test("b", () => expect(2).toBe(2));\n});\n`);
  writeFileSync(join(dir, "quick.test.ts"), `import { expect, test } from "bun:test";\ntest("c", () => expect(3).toBe(3));\ntest("returns early", () => {});\ntest.skip("skipped", () => {});\n`);
  const result = Bun.spawnSync(["bun", "test", "--timeout", "60000", "--reporter=junit", `--reporter-outfile=${report}`], { cwd: dir, stdout: "pipe", stderr: "pipe" });

  test("per-file timings: every file once (describe blocks are not files), hooks included, slowest first", () => {
    expect(result.exitCode).toBe(0);
    const timings = readFileTimings(readFileSync(report, "utf8"));
    expect(timings.map((t) => [t.file, t.tests]).sort()).toEqual([["quick.test.ts", 3], ["slow.test.ts", 2]]);
    // The beforeAll's sleep is part of the file's time (a lower bound, not a timing budget).
    expect(timings.find((t) => t.file === "slow.test.ts")!.seconds).toBeGreaterThanOrEqual(0.3);
    const seconds = timings.map((t) => t.seconds);
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
    const table = formatSlowest(timings, 1).split("\n");
    expect(table).toHaveLength(3); // header, one file, the total
    expect(table[1]).toStartWith("slow.test.ts");
  });

  test("passes without an assertion are listed; skipped tests are not", () => {
    expect(readUnassertedPasses(readFileSync(report, "utf8"))).toEqual(["quick.test.ts: returns early"]);
  });
});

if (!TEST_DATABASE_URL) console.log("[skip] .ci/ensure-test-database.ts: needs TEST_DATABASE_URL (PostgreSQL)");

describe.skipIf(!TEST_DATABASE_URL)("the test database", () => {
  test("is created when missing, and a second call leaves it be", async () => {
    const name = `hearth_ops_cidb_${process.pid}_${Date.now().toString(36)}`;
    const url = new URL(TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      for (const expected of [`created database ${name}`, `database ${name} exists`]) {
        const r = Bun.spawnSync(["bun", ".ci/ensure-test-database.ts"], { cwd: repoRoot, env: { ...process.env, TEST_DATABASE_URL: url.toString() }, stdout: "pipe", stderr: "pipe" });
        expect({ code: r.exitCode, err: r.stderr.toString() }).toEqual({ code: 0, err: "" });
        expect(r.stdout.toString()).toContain(expected);
      }
      expect(await admin`select 1 from pg_database where datname = ${name}`).toHaveLength(1);
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
