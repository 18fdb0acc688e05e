/**
 * Link previews made by the sender (issue 18 §3, the Signal model; docs/integrations.md): the
 * composer asks `POST /api/link-preview {url}`; the server fetches the page through the
 * SSRF-safe fetcher and answers title, description, site name and image URL. The sender's client
 * puts that preview INSIDE the encrypted message; receivers fetch nothing. The server therefore
 * learns the URLs a user previews (the settings page says so), and each user can turn previews
 * off (users.link_previews), which also turns this route off for them.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, ForbiddenError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { fetchPreviewPage } from "./fetcher.ts";
import { parsePreview, type LinkPreview } from "./parse.ts";

/** Per user, shared through Redis when REDIS_URL is set: 20 a minute, bursts of 5. */
export const LINK_PREVIEW_RATE: Limit = { ratePerSec: 1 / 3, burst: 5 };
export const URL_MAX = 2048;

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

const nowMs = (deps: AppDeps) => (deps.now ?? Date.now)();

export async function linkPreviewsEnabled(deps: AppDeps, userId: string): Promise<boolean> {
  const row = await deps.database.db.selectFrom("users").select("link_previews").where("id", "=", userId).executeTakeFirst();
  return row?.link_previews ?? false;
}

export async function setLinkPreviews(deps: AppDeps, userId: string, enabled: boolean): Promise<void> {
  await deps.database.db.updateTable("users").set({ link_previews: enabled }).where("id", "=", userId).execute();
}

export async function previewLink(deps: AppDeps, userId: string, url: string): Promise<LinkPreview> {
  if (!(await linkPreviewsEnabled(deps, userId))) throw new ForbiddenError("Link previews are turned off in your settings.", "LINK_PREVIEWS_OFF");
  if (url.length > URL_MAX) throw new AppError("INVALID_URL", 400, "That link is too long.", { fields: { url: `At most ${URL_MAX} characters.` } });
  const taken = await rateStoreOf(deps).take(`link-preview:${userId}`, LINK_PREVIEW_RATE, nowMs(deps));
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "Too many link previews. Try again shortly.", "LINK_PREVIEW_RATE_LIMITED");
  const page = await fetchPreviewPage(url, deps.linkPreviewPolicy);
  // Never the page's content or the URL in the logs: only that a preview was made.
  return parsePreview(page.html, page.url);
}
