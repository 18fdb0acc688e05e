/**
 * Copies htmx and the Alpine CSP build out of node_modules (no CDN) with content-hashed names.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";

function hashed(source: string, base: string, outDir: string): string {
  const hash = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 8);
  const name = `${base}-${hash}.min.js`;
  copyFileSync(source, join(outDir, name));
  return name;
}

export async function vendorAssets(outDir: string): Promise<{ htmx: string; alpine: string }> {
  mkdirSync(outDir, { recursive: true });
  const htmx = Bun.fileURLToPath(import.meta.resolve("htmx.org/dist/htmx.min.js"));
  const alpine = Bun.fileURLToPath(import.meta.resolve("@alpinejs/csp/dist/cdn.min.js"));
  return { htmx: hashed(htmx, "htmx", outDir), alpine: hashed(alpine, "alpine-csp", outDir) };
}
