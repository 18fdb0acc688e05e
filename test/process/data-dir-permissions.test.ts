/**
 * DATA_DIR is for the Hearth user only (security review, issue 10 item 7): a real process on a
 * pre-existing 0755 DATA_DIR with a 0666 file in it leaves nothing group/world accessible and
 * logs a warning; a fresh DATA_DIR (PGlite unpacks its database with explicit 0666 chmods) ends
 * up the same without a warning.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnHearth } from "../helpers/process.ts";
import { restrictDataDir } from "../../src/data-dir.ts";

const temps: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

// The test's own umask must not decide the outcome: files below are created with explicit modes.
const BASE_ENV = { LISTEN_ADDR: "127.0.0.1:0", LOG_LEVEL: "info" };

/** Every path under `dir` (itself included) whose mode gives group or others any access. */
function accessibleToOthers(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) out.push(`${(st.mode & 0o777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return out;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { recursive: true })) if (lstatSync(join(dir, String(entry))).isFile()) n++;
  return n;
}

describe("DATA_DIR permissions, real process", () => {
  test("a pre-existing 0755 DATA_DIR with a 0666 file: after boot nothing is group/world accessible, and a warning says so", async () => {
    const root = tempDir("hearth-perm-");
    const dataDir = join(root, "data");
    mkdirSync(join(dataDir, "old"), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, "old"), 0o755);
    writeFileSync(join(dataDir, "stray.txt"), "left by an older version");
    chmodSync(join(dataDir, "stray.txt"), 0o666);
    writeFileSync(join(dataDir, "old", "notes"), "x");
    chmodSync(join(dataDir, "old", "notes"), 0o644);
    // A link out of DATA_DIR is not followed: its target is not Hearth's to change.
    const outside = join(root, "outside.txt");
    writeFileSync(outside, "operator's file");
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(dataDir, "link-out"));

    const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: dataDir } });
    try {
      await hearth.ready();
      expect(countFiles(dataDir)).toBeGreaterThan(900); // the embedded database is really there
      expect(accessibleToOthers(dataDir)).toEqual([]);
      const warning = hearth.output().split("\n").find((l) => l.includes('"msg":"data_dir.permissions_fixed"'));
      expect(warning).toBeDefined();
      expect(JSON.parse(warning!)).toMatchObject({ level: "warn", dir: dataDir });
      expect(JSON.parse(warning!).count).toBeGreaterThanOrEqual(4); // DATA_DIR, old/, stray.txt, old/notes
    } finally {
      expect(await hearth.stop()).toBe(0);
    }
    // Shutdown (checkpoint) writes too: still nothing for others.
    expect(accessibleToOthers(dataDir)).toEqual([]);
    expect(statSync(outside).mode & 0o777).toBe(0o644);
  }, 120_000);

  test("a fresh DATA_DIR is created 0700 and the unpacked database is owner-only, without a warning", async () => {
    const dataDir = join(tempDir("hearth-perm-fresh-"), "nested", "data");
    const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: dataDir } });
    try {
      await hearth.ready();
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(accessibleToOthers(dataDir)).toEqual([]);
      expect(hearth.output()).not.toContain("data_dir.permissions_fixed");
    } finally {
      expect(await hearth.stop()).toBe(0);
    }
    expect(accessibleToOthers(dataDir)).toEqual([]);
  }, 120_000);
});

describe("restrictDataDir", () => {
  test("narrows modes, keeps the owner bits, leaves links and their targets alone", () => {
    const root = tempDir("hearth-restrict-");
    const dir = join(root, "d");
    mkdirSync(join(dir, "sub"), { recursive: true });
    chmodSync(dir, 0o775);
    chmodSync(join(dir, "sub"), 0o750);
    writeFileSync(join(dir, "sub", "exec.sh"), "#!/bin/sh\n");
    chmodSync(join(dir, "sub", "exec.sh"), 0o755);
    writeFileSync(join(root, "target"), "");
    chmodSync(join(root, "target"), 0o666);
    symlinkSync(join(root, "target"), join(dir, "sub", "link"));
    const { fixed, failed } = restrictDataDir(dir);
    expect(failed).toEqual([]);
    expect(fixed.sort()).toEqual([dir, join(dir, "sub"), join(dir, "sub", "exec.sh")].sort());
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "sub", "exec.sh")).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, "target")).mode & 0o777).toBe(0o666);
    // A second pass has nothing left to do.
    expect(restrictDataDir(dir)).toEqual({ fixed: [], failed: [] });
  });
});
