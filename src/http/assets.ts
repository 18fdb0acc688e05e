/**
 * Resolves built asset URLs from public/build/manifest.json (written by scripts/build.ts), so the
 * page shell references content-hashed files that can be cached forever.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PageAssets } from "../../views/layout.tsx";

export type BuildManifest = {
  /** logical name (e.g. "app.js", "e2ee.js", "app.css", "htmx.js", "alpine.js") -> file name in public/build or public/vendor */
  files: Record<string, string>;
};

export type AssetResolver = {
  /** Assets for a page; `bundles` adds optional entry points (e.g. "e2ee.js") only on pages that need them. */
  page(bundles?: string[]): PageAssets;
  url(name: string): string;
};

export class MissingBuildError extends Error {
  constructor(path: string) {
    super(`The client build is missing (${path}). Run: bun scripts/build.ts (bun start does this for you).`);
    this.name = "MissingBuildError";
  }
}

export function loadAssets(staticDir: string): AssetResolver {
  const path = join(staticDir, "build", "manifest.json");
  if (!existsSync(path)) throw new MissingBuildError(path);
  const manifest = JSON.parse(readFileSync(path, "utf8")) as BuildManifest;
  const url = (name: string) => {
    const file = manifest.files[name];
    if (!file) throw new Error(`Asset ${name} is not in the build manifest`);
    return `/public/${file}`;
  };
  return {
    url,
    page(bundles = []) {
      const scripts = [
        { src: url("htmx.js") },
        ...bundles.map((b) => ({ src: url(b), module: true })),
        { src: url("app.js"), module: true },
        // Alpine last: our bundle registers its components on alpine:init before Alpine starts.
        { src: url("alpine.js") },
      ];
      // live.js is absent from builds made before it existed (and from hand-made test manifests).
      return { styles: [url("app.css")], scripts, ...(manifest.files["live.js"] ? { live: url("live.js") } : {}) };
    },
  };
}
