/**
 * GIF search (issue 18 §2, docs/integrations.md "GIF search"): the search proxy with its cache
 * (service.ts), the media proxy (media.ts) and the allowed media hosts (hosts.ts).
 */
import type { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { gifRoutes as routes } from "./routes.ts";

export { mediaUrlOf } from "./hosts.ts";
export { gifCacheSize, CACHE_MAX_ENTRIES, CACHE_TTL_MS, GIF_SEARCH_RATE } from "./service.ts";

/** Whether the composer shows the GIF button. */
export function gifsEnabled(deps: AppDeps): boolean {
  return !!deps.config.giphyApiKey;
}

/** Route types erased: createApp's typed chain is at TypeScript's instantiation depth (see app.ts). */
export function gifRoutes(deps: AppDeps): Elysia {
  return routes(deps) as unknown as Elysia;
}
