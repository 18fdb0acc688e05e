/**
 * Installability (issue 13 §7, docs/notifications.md "Installable app"):
 *
 *   GET /manifest.webmanifest   the web app manifest (name, start URL, standalone display, icons)
 *   GET /sw.js                  the service worker, at the origin root so its scope is the whole app
 *   GET /offline                the offline shell the service worker shows when a page cannot load
 *
 * The service worker caches only the offline page and the static, content-hashed assets it and
 * the app use (public/build, public/vendor): never an authenticated page, an API answer, or
 * anything decrypted. Its precache list is written into it here, from the build manifest, so a
 * new build is a new service worker (the browser compares the bytes) with a new cache.
 */
import { Elysia } from "elysia";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AppDeps } from "../../deps.ts";
import { page } from "../../http/render.ts";
import { Layout } from "../../../views/index.ts";

export const ICONS = [
  { name: "icon-192.png", sizes: "192x192", purpose: "any" },
  { name: "icon-512.png", sizes: "512x512", purpose: "any" },
  { name: "icon-maskable-512.png", sizes: "512x512", purpose: "maskable" },
] as const;
export const THEME_COLOR = "#4450c4";
export const BACKGROUND_COLOR = "#f4f5f7";
export const OFFLINE_PATH = "/offline";

export function webManifest(deps: AppDeps) {
  return {
    id: "/",
    name: "Hearth",
    short_name: "Hearth",
    description: "End-to-end encrypted team chat",
    start_url: "/",
    scope: "/",
    display: "standalone",
    background_color: BACKGROUND_COLOR,
    theme_color: THEME_COLOR,
    icons: ICONS.map((icon) => ({ src: deps.assets.url(icon.name), sizes: icon.sizes, type: "image/png", purpose: icon.purpose })),
  };
}

export function pwaRoutes(deps: AppDeps) {
  let sw: string | undefined;
  const serviceWorker = () => {
    if (sw) return sw;
    const shell = deps.assets.page();
    const precache = [OFFLINE_PATH, ...shell.styles, ...shell.scripts.map((s) => s.src), ...ICONS.map((i) => deps.assets.url(i.name))];
    const bundle = readFileSync(join(deps.config.staticDir, deps.assets.url("sw.js").replace(/^\/public\//, "")), "utf8").replace(/\n\/\/# (?:sourceMappingURL|debugId)=[^\n]*/g, "");
    const version = createHash("sha256").update(JSON.stringify(precache)).update(bundle).digest("hex").slice(0, 12);
    sw = `self.HEARTH_SW=${JSON.stringify({ version, precache, offline: OFFLINE_PATH })};\n${bundle}`;
    return sw;
  };
  return new Elysia({ name: "pwa" })
    .get(
      "/manifest.webmanifest",
      () => new Response(JSON.stringify(webManifest(deps)), { headers: { "content-type": "application/manifest+json; charset=utf-8", "cache-control": "no-cache" } }),
    )
    .get(
      "/sw.js",
      () =>
        new Response(serviceWorker(), {
          // no-cache: the browser checks for a new worker on every navigation (the spec caps it at 24 h anyway).
          headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
        }),
    )
    .get(OFFLINE_PATH, () =>
      page(
        <Layout title="You are offline" assets={deps.assets.page()} topBar>
          <section class="card stack offline-card" aria-labelledby="offline-h">
            <h1 id="offline-h">You are offline</h1>
            <p>Hearth cannot reach the server right now. Your conversations are not stored on this device for reading offline: they come back, decrypted afresh, when the connection does.</p>
            <p>
              <a class="btn btn--primary" href="/" data-offline-retry>
                Try again
              </a>
            </p>
          </section>
        </Layout>,
      ),
    );
}
