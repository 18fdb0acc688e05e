// Copies the two vendored browser libraries out of node_modules into `outDir` under
// content-hashed names (cacheable forever; a new version gets a new URL). Called by
// scripts/build.ts; returns the file names (not paths) for the asset manifest.
import { mkdir, readdir, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

const VENDORED = {
  htmx: { specifier: "htmx.org/dist/htmx.min.js", stem: "htmx", ext: ".min.js" },
  alpine: { specifier: "@alpinejs/csp/dist/cdn.min.js", stem: "alpine-csp", ext: ".min.js" },
} as const;

export type VendorAssets = { htmx: string; alpine: string };

function hash8(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 8);
}

async function copyHashed(specifier: string, stem: string, ext: string, outDir: string): Promise<string> {
  const source = fileURLToPath(import.meta.resolve(specifier));
  const bytes = new Uint8Array(await Bun.file(source).arrayBuffer());
  const name = `${stem}-${hash8(bytes)}${ext}`;
  await Bun.write(join(outDir, name), bytes);
  // Drop older hashed copies of the same library so the folder doesn't grow forever.
  for (const existing of await readdir(outDir)) {
    // Exactly "<stem>-<8 hex><ext>": never touch other files that merely share the prefix.
    if (existing !== name && new RegExp(`^${stem}-[0-9a-f]{8}${ext.replaceAll(".", "\\.")}$`).test(existing)) {
      await unlink(join(outDir, existing)).catch(() => {});
    }
  }
  return basename(name);
}

export async function vendorAssets(outDir: string): Promise<VendorAssets> {
  await mkdir(outDir, { recursive: true });
  const [htmx, alpine] = await Promise.all([
    copyHashed(VENDORED.htmx.specifier, VENDORED.htmx.stem, VENDORED.htmx.ext, outDir),
    copyHashed(VENDORED.alpine.specifier, VENDORED.alpine.stem, VENDORED.alpine.ext, outDir),
  ]);
  return { htmx, alpine };
}

if (import.meta.main) {
  const out = process.argv[2] ?? "public/vendor";
  console.log(JSON.stringify(await vendorAssets(out)));
}
