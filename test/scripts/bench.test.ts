// Benchmarks run from a fresh clone (scripts/bench/README.md): the ones that serve pages build
// the client first (a fresh clone has no public/build: fanout.ts died with "missing build"), and
// the send path's smoke run with few senders completes (it crashed below 3 senders).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TEST_DATABASE_URL } from "../helpers/db.ts";

const BENCH = resolve(import.meta.dir, "../../scripts/bench");
const scripts = readdirSync(BENCH).filter((f) => f.endsWith(".ts"));

describe("scripts/bench", () => {
  test("every script is in the README", () => {
    const readme = readFileSync(join(BENCH, "README.md"), "utf8");
    expect(scripts.filter((f) => !readme.includes(`\`${f}\``))).toEqual([]);
  });

  test("a script that serves pages (the app's asset manifest) builds the client first, without deleting a current build", () => {
    const servesPages = (text: string) => /loadAssets\(|spawnHearth\(|manifest\.json/.test(text);
    const offenders = scripts.filter((f) => {
      const text = readFileSync(join(BENCH, f), "utf8");
      return servesPages(text) && !/ensureClientBuild\(/.test(text);
    });
    expect(scripts.filter((f) => servesPages(readFileSync(join(BENCH, f), "utf8"))).length).toBeGreaterThan(0);
    expect(offenders).toEqual([]);
    // buildClient() deletes public/build first: a test run serving it at the time would break.
    expect(scripts.filter((f) => /\bbuildClient\(/.test(readFileSync(join(BENCH, f), "utf8")))).toEqual([]);
  });
});

if (!TEST_DATABASE_URL) console.log("[skip] send-path smoke run: needs TEST_DATABASE_URL (the bench measures PostgreSQL)");

describe.skipIf(!TEST_DATABASE_URL)("send-path.ts", () => {
  test("a smoke run with a single sender completes and prints its figures", () => {
    const r = Bun.spawnSync(["bun", join(BENCH, "send-path.ts"), "--seconds", "0.2", "--concurrency", "1", "--count", "5"], {
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL! },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect({ code: r.exitCode, err: r.exitCode === 0 ? "" : r.stderr.toString() }).toEqual({ code: 0, err: "" });
    expect(r.stdout.toString()).toContain("1 senders, one channel:");
  });
});
