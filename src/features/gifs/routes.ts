/**
 * GIF search over HTTP (docs/integrations.md "GIF search"); every route is 404 while
 * GIPHY_API_KEY is unset:
 *
 *   GET /api/gifs/search?q=&offset=&limit=   {results: [{id, title, preview, gif}], next_offset}
 *   GET /api/gifs/trending?offset=&limit=    the same shape
 *   GET /api/gifs/media?url=                 the GIF itself, from Giphy's media hosts only
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { int, Offset, queryOf, text } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { proxyGifMedia } from "./media.ts";
import { findGifs, gifKeyOf, PAGE_MAX, QUERY_MAX } from "./service.ts";

const DEFAULT_LIMIT = 24;

export function gifRoutes(deps: AppDeps) {
  return new Elysia({ name: "gifs" })
    .use(authGuard(deps))
    .get("/api/gifs/search", async ({ actor, query }) => findGifs(deps, actor.userId, query.q ?? "", query.offset ?? 0, query.limit ?? DEFAULT_LIMIT), {
      auth: true,
      query: queryOf({ q: text(QUERY_MAX), offset: Offset, limit: int(1, PAGE_MAX) }),
      detail: { summary: "Search GIFs (through Hearth: the GIF provider sees the server, not you); 404 when GIF search is off", tags: ["gifs"] },
    })
    .get("/api/gifs/trending", async ({ actor, query }) => findGifs(deps, actor.userId, undefined, query.offset ?? 0, query.limit ?? DEFAULT_LIMIT), {
      auth: true,
      query: queryOf({ offset: Offset, limit: int(1, PAGE_MAX) }),
      detail: { summary: "Trending GIFs; 404 when GIF search is off", tags: ["gifs"] },
    })
    .get(
      "/api/gifs/media",
      async ({ query }) => {
        gifKeyOf(deps);
        return proxyGifMedia(deps, query.url ?? "");
      },
      {
        auth: true,
        query: queryOf({ url: t.String({ maxLength: 2048, description: "A media URL from a search answer (Giphy's media hosts only)." }) }),
        detail: { summary: "A GIF, proxied from the GIF provider's media hosts (image/gif, image/webp or video/mp4)", tags: ["gifs"] },
      },
    );
}
