/**
 * Link previews made by the sender (issue 18 §3, docs/integrations.md): the SSRF-safe fetcher
 * (fetcher.ts, addresses.ts), the parser (parse.ts), the per-user switch and the routes.
 */
import type { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { linkPreviewRoutes as routes } from "./routes.tsx";

export { fetchPreviewPage, openChecked, readCapped, type FetchPolicy, type Resolver } from "./fetcher.ts";
export { isPublicAddress, isCanonicalIPv4 } from "./addresses.ts";
export { parsePreview, type LinkPreview } from "./parse.ts";
export { LINK_PREVIEW_RATE } from "./service.ts";

/** Route types erased: createApp's typed chain is at TypeScript's instantiation depth (see app.ts). */
export function linkPreviewRoutes(deps: AppDeps): Elysia {
  return routes(deps) as unknown as Elysia;
}
