// The crypto bundle as actually shipped: public/build/e2ee-<hash>.js from the build manifest
// (built by the test preload with scripts/build.ts), not a separate Bun.build of the sources.
// It must stay within 40 KiB gzip, contain no server code, be served by the app, and be loaded
// only by pages that ask for it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createTestContext, STATIC_DIR, type TestContext } from "../../helpers/app.ts";

const manifest = JSON.parse(readFileSync(join(STATIC_DIR, "build", "manifest.json"), "utf8")) as { files: Record<string, string> };
const read = (name: string) => readFileSync(join(STATIC_DIR, manifest.files[name]!));

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe("built e2ee.js", () => {
  test("is at most 40 KiB gzip and has no server code", () => {
    const bytes = read("e2ee.js");
    const gzip = Bun.gzipSync(bytes).length;
    console.log(`built ${manifest.files["e2ee.js"]}: ${(bytes.length / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`);
    expect(gzip).toBeLessThanOrEqual(40 * 1024);
    const text = bytes.toString("utf8");
    for (const forbidden of ["elysia", "kysely", "postgres", "pglite", "Math.random", "jose"]) expect({ forbidden, found: text.includes(forbidden) }).toEqual({ forbidden, found: false });
    expect(text).toContain("Hearth X3DH v1"); // it is the crypto library
  });

  test("the general app bundle does not carry the crypto library", () => {
    expect(read("app.js").toString("utf8")).not.toContain("Hearth X3DH v1");
  });

  test("is served by the app; a page without crypto does not load it, a page that asks for it does", async () => {
    const url = ctx.deps.assets.url("e2ee.js");
    const res = await ctx.request(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("javascript");
    const home = await (await ctx.request("/")).text();
    expect(home).not.toContain("e2ee");
    expect(ctx.deps.assets.page().scripts.map((s) => s.src)).not.toContain(url);
    expect(ctx.deps.assets.page(["e2ee.js"]).scripts).toContainEqual({ src: url, module: true });
  });
});
