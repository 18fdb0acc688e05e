import { afterAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { vendorAssets } from "../../scripts/vendor.ts";

const dir = await mkdtemp(join(tmpdir(), "hearth-vendor-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

test("vendorAssets copies htmx and Alpine CSP under content-hashed names", async () => {
  await writeFile(join(dir, "htmx-00000000.min.js"), "stale");
  await writeFile(join(dir, "htmx-ws-12345678.min.js"), "someone else's");
  const out = await vendorAssets(dir);
  expect(out.htmx).toMatch(/^htmx-[0-9a-f]{8}\.min\.js$/);
  expect(out.alpine).toMatch(/^alpine-csp-[0-9a-f]{8}\.min\.js$/);
  const htmxSrc = fileURLToPath(import.meta.resolve("htmx.org/dist/htmx.min.js"));
  expect(await Bun.file(join(dir, out.htmx)).text()).toBe(await Bun.file(htmxSrc).text());
  const files = await readdir(dir);
  expect(files).not.toContain("htmx-00000000.min.js"); // older copy removed
  expect(files).toContain("htmx-ws-12345678.min.js"); // unrelated file kept
  // Same input, same names (deterministic).
  expect(await vendorAssets(dir)).toEqual(out);
});
