/**
 * Builds what the browser loads: vendored htmx/Alpine into public/vendor/, the client bundles
 * (src/client/app.ts always; src/client/e2ee/index.ts for pages that need crypto) and the
 * stylesheet into public/build/ with content-hashed names, and public/build/manifest.json that
 * maps logical names to files, then brotli and gzip variants of the JS and CSS beside them
 * (scripts/precompress.ts, served by Accept-Encoding). Run by `bun start`, the Dockerfile and the
 * test preload.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { precompressDir, pruneCache } from "./precompress.ts";
import { vendorAssets } from "./vendor.ts";

const ROOT = resolve(import.meta.dir, "..");

const ENTRIES: Record<string, string> = {
  "app.js": "src/client/app.ts",
  "e2ee.js": "src/client/e2ee/index.ts",
  // The messaging client (E2EE library included); app.js imports it only on chat pages.
  "chat.js": "src/client/chat/index.ts",
};
const STYLES: Record<string, string> = { "app.css": "src/client/styles/app.css" };

export async function buildClient(publicDir = join(ROOT, "public")): Promise<Record<string, string>> {
  const buildDir = join(publicDir, "build");
  const vendorDir = join(publicDir, "vendor");
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(vendorDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  const files: Record<string, string> = {};

  const vendored = await vendorAssets(vendorDir);
  files["htmx.js"] = `vendor/${vendored.htmx}`;
  files["alpine.js"] = `vendor/${vendored.alpine}`;

  for (const [name, entry] of Object.entries(ENTRIES)) {
    const source = join(ROOT, entry);
    if (!existsSync(source)) continue; // a bundle not built yet (feature still to come)
    const result = await Bun.build({
      entrypoints: [source],
      outdir: buildDir,
      target: "browser",
      format: "esm",
      minify: true,
      sourcemap: "linked",
      // chat.js loads its optional UI (emoji picker, polls, scheduling, bookmarks) as a lazy
      // chunk (src/client/chat/extras-ui.ts) so the messaging bundle stays within its budget.
      splitting: name === "chat.js",
      naming: { entry: `${basename(name, ".js")}-[hash].[ext]`, chunk: `${basename(name, ".js")}-chunk-[hash].[ext]` },
    });
    if (!result.success) throw new AggregateError(result.logs, `Bundling ${entry} failed`);
    const output = result.outputs.find((o) => o.kind === "entry-point");
    if (!output) throw new Error(`No output for ${entry}`);
    files[name] = `build/${basename(output.path)}`;
  }

  for (const [name, entry] of Object.entries(STYLES)) {
    const css = readFileSync(join(ROOT, entry));
    const hash = createHash("sha256").update(css).digest("hex").slice(0, 8);
    const file = `${basename(name, ".css")}-${hash}.css`;
    writeFileSync(join(buildDir, file), css);
    files[name] = `build/${file}`;
  }

  writeFileSync(join(buildDir, "manifest.json"), JSON.stringify({ files }, null, 2));
  const cacheDir = join(ROOT, "node_modules", ".cache", "hearth-precompress");
  precompressDir(buildDir, cacheDir);
  precompressDir(vendorDir, cacheDir);
  pruneCache(cacheDir);
  return files;
}

if (import.meta.main) {
  const started = performance.now();
  const files = await buildClient();
  console.log(`built ${Object.keys(files).length} assets in ${Math.round(performance.now() - started)} ms`);
}
