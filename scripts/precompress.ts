/**
 * Build-time compression of the static assets (docs/decisions/0004-compression.md): beside every
 * JS and CSS file of at least 1 KiB in a folder, `name.br` (brotli, quality 11) and `name.gz`
 * (gzip, level 9), each kept only when smaller. src/http/static-files.ts serves them by
 * Accept-Encoding. Source maps are left alone (only developer tools fetch them).
 *
 * Brotli 11 takes ~3 s for the whole client on this 2-core box, and the test preload builds on
 * every run, so results are cached by content hash in node_modules/.cache/hearth-precompress (a
 * fresh checkout, the Docker build and CI pay once). Entries unused for a week are pruned.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants as zlib } from "node:zlib";

const COMPRESSIBLE = /\.(js|css)$/;
const MIN_BYTES = 1024;
const PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000;

function cached(cacheDir: string, key: string, make: () => Uint8Array): Uint8Array {
  const path = join(cacheDir, key);
  if (existsSync(path)) {
    const now = new Date();
    utimesSync(path, now, now); // used: pruneCache keeps it
    return readFileSync(path);
  }
  const bytes = make();
  // Another build may write the same entry at the same time: write aside, then rename (atomic).
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, bytes);
  renameSync(temp, path);
  return bytes;
}

/** Writes .br and .gz variants beside the compressible files of `dir`; returns how many were written. */
export function precompressDir(dir: string, cacheDir: string): number {
  mkdirSync(cacheDir, { recursive: true });
  let written = 0;
  for (const name of readdirSync(dir)) {
    if (!COMPRESSIBLE.test(name)) continue;
    const source = readFileSync(join(dir, name));
    if (source.length < MIN_BYTES) continue;
    const hash = createHash("sha256").update(source).digest("hex");
    const variants: [string, () => Uint8Array][] = [
      [".br", () => brotliCompressSync(source, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_SIZE_HINT]: source.length } })],
      [".gz", () => Bun.gzipSync(source, { level: 9 })],
    ];
    for (const [ext, make] of variants) {
      const bytes = cached(cacheDir, `${hash}${ext}`, make);
      if (bytes.length >= source.length) continue;
      writeFileSync(join(dir, name + ext), bytes);
      written++;
    }
  }
  return written;
}

/** Removes cache entries no build used for a week. */
export function pruneCache(cacheDir: string, now = Date.now()): void {
  if (!existsSync(cacheDir)) return;
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (now - statSync(path).mtimeMs > PRUNE_AFTER_MS) rmSync(path, { force: true });
  }
}
