/**
 * GIF search through Hearth (issue 18 §2, docs/integrations.md "GIF search"). The browser asks
 * Hearth; Hearth asks Giphy with GIPHY_API_KEY, which never leaves the server (not in an answer,
 * not in a log line: the upstream URL that carries it is never logged or echoed). Answers are
 * cached in memory per process (TTL, bounded size). Only media URLs of Giphy's media hosts are
 * passed on, without their query strings (Giphy's tracking parameters); readers load them through
 * the media proxy (media.ts), so Giphy never learns who looks at which GIF.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, NotFoundError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { mediaUrlOf } from "./hosts.ts";

export const GIPHY_API_BASE = "https://api.giphy.com";
/** Per user (shared through Redis when REDIS_URL is set): 60 a minute, bursts of 15 (typing in the box). */
export const GIF_SEARCH_RATE: Limit = { ratePerSec: 1, burst: 15 };
export const CACHE_TTL_MS = 5 * 60_000;
export const CACHE_MAX_ENTRIES = 500;
export const QUERY_MAX = 100;
export const PAGE_MAX = 50;
const UPSTREAM_TIMEOUT_MS = 5_000;

export type GifMedia = { url: string; width: number; height: number };
export type Gif = { id: string; title: string; preview: GifMedia; gif: GifMedia };
export type GifPage = { results: Gif[]; next_offset: number | null };

/** The GIF key, or 404 for every GIF route when it is unset (the feature does not exist then). */
export function gifKeyOf(deps: AppDeps): string {
  const key = deps.config.giphyApiKey;
  if (!key) throw new NotFoundError("There is nothing at this address.");
  return key;
}

type Entry = { expires: number; value: GifPage };
type State = { cache: Map<string, Entry>; rate: RateLimitStore };
const states = new WeakMap<AppDeps, State>();
function stateOf(deps: AppDeps): State {
  let state = states.get(deps);
  if (!state) states.set(deps, (state = { cache: new Map(), rate: deps.rateLimitStore ?? new MemoryRateLimitStore() }));
  return state;
}
const nowMs = (deps: AppDeps) => (deps.now ?? Date.now)();

function cacheGet(deps: AppDeps, key: string): GifPage | undefined {
  const { cache } = stateOf(deps);
  const hit = cache.get(key);
  if (!hit) return undefined;
  if (hit.expires <= nowMs(deps)) {
    cache.delete(key);
    return undefined;
  }
  // Least recently used goes first: a hit moves to the end.
  cache.delete(key);
  cache.set(key, hit);
  return hit.value;
}

function cachePut(deps: AppDeps, key: string, value: GifPage): void {
  const { cache } = stateOf(deps);
  cache.delete(key);
  cache.set(key, { expires: nowMs(deps) + CACHE_TTL_MS, value });
  while (cache.size > CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
}

/** The number of cached answers (tests and the bound). */
export function gifCacheSize(deps: AppDeps): number {
  return stateOf(deps).cache.size;
}

const num = (v: unknown): number => {
  const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : NaN;
  return Number.isFinite(n) && n > 0 && n < 10_000 ? Math.round(n) : 0;
};

function mediaOf(deps: AppDeps, raw: unknown): GifMedia | null {
  if (!raw || typeof raw !== "object") return null;
  const o = raw as Record<string, unknown>;
  const url = typeof o.url === "string" ? mediaUrlOf(deps, o.url) : null;
  return url ? { url, width: num(o.width), height: num(o.height) } : null;
}

/** Giphy's answer, kept to what the picker needs; anything not on a media host is dropped. */
export function normaliseGiphy(deps: AppDeps, body: unknown, offset: number, limit: number): GifPage {
  const data = body && typeof body === "object" && Array.isArray((body as { data?: unknown }).data) ? (body as { data: unknown[] }).data : [];
  const results: Gif[] = [];
  for (const item of data.slice(0, PAGE_MAX)) {
    if (!item || typeof item !== "object") continue;
    const o = item as { id?: unknown; title?: unknown; images?: Record<string, unknown> };
    const images = o.images ?? {};
    const gif = mediaOf(deps, images.fixed_height) ?? mediaOf(deps, images.downsized) ?? mediaOf(deps, images.original);
    const preview = mediaOf(deps, images.fixed_height_small) ?? mediaOf(deps, images.preview_gif) ?? gif;
    if (!gif || !preview || typeof o.id !== "string" || !/^[A-Za-z0-9]{1,64}$/.test(o.id)) continue;
    results.push({ id: o.id, title: typeof o.title === "string" ? o.title.slice(0, 200) : "", preview, gif });
  }
  return { results, next_offset: data.length >= limit ? offset + limit : null };
}

/** Search (`q` set) or trending; cached; rate-limited per user. */
export async function findGifs(deps: AppDeps, userId: string, q: string | undefined, offset: number, limit: number): Promise<GifPage> {
  const key = gifKeyOf(deps);
  const query = (q ?? "").trim().replace(/\s+/g, " ").toLowerCase();
  if (query.length > QUERY_MAX) throw new AppError("VALIDATION_ERROR", 400, "That search is too long.", { fields: { q: `At most ${QUERY_MAX} characters.` } });
  const rating = deps.config.giphyRating;
  const cacheKey = `${query ? `search:${query}` : "trending"}:${offset}:${limit}:${rating}`;
  const taken = await stateOf(deps).rate.take(`gif-search:${userId}`, GIF_SEARCH_RATE, nowMs(deps));
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "Too many GIF searches. Try again shortly.", "GIF_SEARCH_RATE_LIMITED");
  const cached = cacheGet(deps, cacheKey);
  if (cached) return cached;
  const base = deps.gifs?.apiBaseUrl ?? GIPHY_API_BASE;
  const upstream = new URL(query ? "/v1/gifs/search" : "/v1/gifs/trending", base);
  upstream.searchParams.set("api_key", key);
  if (query) upstream.searchParams.set("q", query);
  upstream.searchParams.set("limit", String(limit));
  upstream.searchParams.set("offset", String(offset));
  upstream.searchParams.set("rating", rating);
  upstream.searchParams.set("bundle", "messaging_non_clips");
  let body: unknown;
  try {
    const response = await fetch(upstream.href, { headers: { accept: "application/json" }, redirect: "error", signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      // The status only: the URL carries the key.
      deps.log.warn("gifs.upstream_failed", { status: response.status });
      throw new AppError("GIF_SEARCH_UNAVAILABLE", 502, "GIF search is unavailable right now.");
    }
    body = await response.json();
  } catch (error) {
    if (error instanceof AppError) throw error;
    deps.log.warn("gifs.upstream_failed", { reason: error instanceof Error ? error.name : "unknown" });
    throw new AppError("GIF_SEARCH_UNAVAILABLE", 502, "GIF search is unavailable right now.");
  }
  const page = normaliseGiphy(deps, body, offset, limit);
  cachePut(deps, cacheKey, page);
  return page;
}
