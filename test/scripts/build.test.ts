// The client build runs once per run, not once per bun process: the test preload (run by every
// --parallel worker and by each of two runs sharing a checkout) only rebuilds a stale build, and
// processes racing on a stale build build it once, under a lock, without deleting files from
// under each other.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureClientBuild } from "../../scripts/build.ts";

const dirs: string[] = [];
const tempPublic = () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-build-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("a fresh build is kept: the second call builds nothing and touches no file", async () => {
  const dir = tempPublic();
  expect(await ensureClientBuild(dir)).toBe("built");
  const manifest = join(dir, "build", "manifest.json");
  const before = statSync(manifest).mtimeMs;
  expect(await ensureClientBuild(dir)).toBe("fresh");
  expect(statSync(manifest).mtimeMs).toBe(before);
});

test("a build of other sources, or one missing a file, is rebuilt", async () => {
  const dir = tempPublic();
  await ensureClientBuild(dir);
  const manifestPath = join(dir, "build", "manifest.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { files: Record<string, string>; sources: string };
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, sources: "0".repeat(64) }));
  expect(await ensureClientBuild(dir)).toBe("built");
  rmSync(join(dir, manifest.files["app.js"]!));
  expect(await ensureClientBuild(dir)).toBe("built");
});

test("processes racing on a stale build: exactly one builds, all see a complete build", async () => {
  const dir = tempPublic();
  const script = `import { ensureClientBuild } from ${JSON.stringify(resolve("scripts/build.ts"))};
console.log(await ensureClientBuild(${JSON.stringify(dir)}));`;
  const procs = Array.from({ length: 4 }, () => Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" }));
  const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: (await new Response(p.stdout).text()).trim(), err: await new Response(p.stderr).text() })));
  expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
  expect(results.map((r) => r.out).sort()).toEqual(["built", "fresh", "fresh", "fresh"]);
  expect(await ensureClientBuild(dir)).toBe("fresh");
});
