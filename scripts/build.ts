/**
 * Builds what the browser loads: vendored htmx/Alpine into public/vendor/, the client bundles
 * (src/client/app.ts always; src/client/e2ee/index.ts for pages that need crypto) and the
 * stylesheet into public/build/ with content-hashed names, and public/build/manifest.json that
 * maps logical names to files, then brotli and gzip variants of the JS and CSS beside them
 * (scripts/precompress.ts, served by Accept-Encoding). Run by `bun start` and the Dockerfile;
 * `.ci/run` and the test preload call ensureClientBuild(), which rebuilds only when the sources
 * changed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { precompressDir, pruneCache } from "./precompress.ts";
import { appIcons } from "./icons.ts";
import { vendorAssets } from "./vendor.ts";
import { withDirectoryLock } from "./dir-lock.ts";

const ROOT = resolve(import.meta.dir, "..");

const ENTRIES: Record<string, string> = {
  "app.js": "src/client/app.ts",
  "e2ee.js": "src/client/e2ee/index.ts",
  // The QR encoder of the safety-number screen; before chat.js, which is given its URL.
  "qr.js": "src/client/qr.ts",
  // The files UI (tray, upload, display): a bundle of its own that chat.js imports on first use
  // (src/client/chat/files-hook.ts). Built before chat.js, which learns its name (`define`): as a
  // chunk of chat.js it would share the E2EE modules with it, which Bun splits into a third chunk
  // that every chat page would load.
  "chat-files.js": "src/client/chat/files-ui.ts",
  // The call client (docs/voice.md), imported by chat.js when a page offers calls (voice-hook.ts).
  "chat-voice.js": "src/client/voice/index.ts",
  // Local encrypted search (docs/search.md): the index, its backfill and the panel, imported by
  // chat.js once a chat page is up (src/client/chat/search-hook.ts).
  "chat-search.js": "src/client/search/index.ts",
  // The live socket of signed-in pages (src/client/live/): app.js and chat.js import it by URL.
  "live.js": "src/client/live/index.ts",
  // The messaging client (E2EE library included); app.js imports it only on chat pages.
  "chat.js": "src/client/chat/index.ts",
  // The service worker (served as /sw.js with its precache list prepended; notifications/pwa.tsx)
  // and the push switch of Settings › Notifications: bundles of their own, loaded nowhere else.
  "sw.js": "src/client/sw/index.ts",
  "push-settings.js": "src/client/push-settings.ts",
  // Public image uploads (avatar, community icon/banner/emoji; src/client/images-ui.ts): app.js
  // imports it by URL where a page carries [data-images-src].
  "images-ui.js": "src/client/images-ui.ts",
  // Settings › Your data: the export download and "Decrypt my export" (the chat engine and a zip
  // reader; docs/admin.md "Data rights"). Loaded by those two pages only.
  "export-decrypt.js": "src/client/export-decrypt.ts",
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
      // live.js: the profile card (opened from the account menu) is a lazy chunk of it.
      splitting: name === "chat.js" || name === "live.js",
      // chat.js imports the QR bundle by URL when a Verify panel opens (src/client/qr.ts), and the
      // files UI on first use (files-hook.ts). Their file names: chat.js resolves them against its
      // own URL (all are in build/).
      define: name === "chat.js"
        ? {
            ...(files["qr.js"] ? { __HEARTH_QR_SRC__: JSON.stringify(basename(files["qr.js"])) } : {}),
            ...(files["chat-files.js"] ? { HEARTH_FILES_CHUNK: JSON.stringify(basename(files["chat-files.js"])) } : {}),
            ...(files["chat-voice.js"] ? { HEARTH_VOICE_CHUNK: JSON.stringify(basename(files["chat-voice.js"])) } : {}),
            ...(files["chat-search.js"] ? { HEARTH_SEARCH_CHUNK: JSON.stringify(basename(files["chat-search.js"])) } : {}),
          }
        : undefined,
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

  // App icons of the web app manifest, drawn here (scripts/icons.ts), content-hashed like the rest.
  for (const [name, png] of Object.entries(appIcons())) {
    const file = `${basename(name, ".png")}-${createHash("sha256").update(png).digest("hex").slice(0, 8)}.png`;
    writeFileSync(join(buildDir, file), png);
    files[name] = `build/${file}`;
  }

  writeFileSync(join(buildDir, "manifest.json"), JSON.stringify({ files, sources: hashBuildInputs() }, null, 2));
  const cacheDir = join(ROOT, "node_modules", ".cache", "hearth-precompress");
  precompressDir(buildDir, cacheDir);
  precompressDir(vendorDir, cacheDir);
  pruneCache(cacheDir);
  return files;
}

// What a build depends on. All of src/ rather than the client's import graph: a few milliseconds
// of hashing buys never serving a bundle older than the code that imports shared modules.
const INPUTS = ["src", "scripts/build.ts", "scripts/icons.ts", "scripts/vendor.ts", "package.json", "bun.lock"];

/** sha256 over the paths and contents of every build input (vendored libraries come via bun.lock). */
export function hashBuildInputs(): string {
  const hash = createHash("sha256");
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
      return;
    }
    hash.update(relative(ROOT, path)).update("\0").update(readFileSync(path)).update("\0");
  };
  for (const input of INPUTS) visit(join(ROOT, input));
  return hash.digest("hex");
}

/** True when public/build holds a complete build of the current sources. */
function isBuildFresh(publicDir: string): boolean {
  const path = join(publicDir, "build", "manifest.json");
  if (!existsSync(path)) return false;
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as { files?: Record<string, string>; sources?: string };
    if (manifest.sources !== hashBuildInputs() || !manifest.files) return false;
    return Object.values(manifest.files).every((file) => existsSync(join(publicDir, file)));
  } catch {
    return false; // half-written or foreign: rebuild
  }
}

/**
 * Builds unless public/build already matches the sources. Test runs call this from the preload,
 * which bun runs once per process: in every --parallel worker, and in each of two `bun test`
 * runs sharing a checkout. A rebuild deletes public/build, which would pull files out from under
 * a run serving them, so only a stale build is rebuilt, under a lock, and the freshness is checked
 * again once the lock is held (another process may just have built it).
 */
export async function ensureClientBuild(publicDir = join(ROOT, "public")): Promise<"fresh" | "built"> {
  if (isBuildFresh(publicDir)) return "fresh";
  mkdirSync(publicDir, { recursive: true });
  return withDirectoryLock(join(publicDir, ".build.lock"), async () => {
    if (isBuildFresh(publicDir)) return "fresh";
    await buildClient(publicDir);
    return "built";
  });
}

if (import.meta.main) {
  const started = performance.now();
  if (process.argv.includes("--if-stale")) {
    const outcome = await ensureClientBuild();
    console.log(outcome === "fresh" ? "client build is up to date" : `built the client in ${Math.round(performance.now() - started)} ms`);
  } else {
    const files = await buildClient();
    console.log(`built ${Object.keys(files).length} assets in ${Math.round(performance.now() - started)} ms`);
  }
}
