/**
 * The GIF media proxy (docs/integrations.md "GIF search"): readers load a GIF that travelled
 * inside an encrypted message from Hearth, never from Giphy, so Giphy does not learn who reads
 * what and the CSP needs no Giphy host. Only Giphy's media hosts (hosts.ts); the fetch goes
 * through the SSRF-safe fetcher of link previews (resolve first, public addresses only, the IP
 * pinned) with no redirect followed (a redirect could leave the media hosts); only image/gif,
 * image/webp and video/mp4 answers pass, streamed with a size cap and a deadline, with nosniff
 * and cache headers. The URL proxied is never logged.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { openChecked } from "../link-previews/index.ts";
import { MEDIA_TYPES, mediaUrlOf } from "./hosts.ts";
import { gifKeyOf } from "./service.ts";

export const MEDIA_MAX_BYTES = 15 * 1024 * 1024;
export const MEDIA_TIMEOUT_MS = 20_000;
const ALLOWED = new Set<string>(Object.values(MEDIA_TYPES));

const unavailable = () => new AppError("GIF_MEDIA_UNAVAILABLE", 502, "That GIF could not be loaded.");

export async function proxyGifMedia(deps: AppDeps, raw: string): Promise<Response> {
  gifKeyOf(deps);
  const url = mediaUrlOf(deps, raw);
  if (!url) throw new AppError("GIF_MEDIA_REFUSED", 400, "Only GIFs from the GIF provider's media hosts are shown.");
  const max = deps.gifs?.mediaMaxBytes ?? MEDIA_MAX_BYTES;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deps.gifs?.mediaTimeoutMs ?? MEDIA_TIMEOUT_MS);
  let response: Response;
  try {
    ({ response } = await openChecked(url, { ...deps.gifs?.mediaPolicy, maxRedirects: 0 }, controller.signal, "image/webp,image/gif,video/mp4"));
  } catch {
    clearTimeout(timer);
    throw unavailable();
  }
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const length = Number(response.headers.get("content-length") ?? "NaN");
  if (!response.ok || !ALLOWED.has(type) || length > max || !response.body) {
    clearTimeout(timer);
    await response.body?.cancel().catch(() => {});
    throw unavailable();
  }
  let seen = 0;
  const capped = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        seen += chunk.byteLength;
        if (seen > max) {
          controller.abort();
          out.error(new Error("GIF too large"));
          return;
        }
        out.enqueue(chunk);
      },
      flush() {
        clearTimeout(timer);
      },
    }),
  );
  const headers = new Headers({
    "content-type": type,
    "x-content-type-options": "nosniff",
    // The URL names one immutable file; private: the route needs a session.
    "cache-control": "private, max-age=86400, immutable",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": "default-src 'none'; sandbox",
    "referrer-policy": "no-referrer",
  });
  if (Number.isFinite(length)) headers.set("content-length", String(length));
  return new Response(capped, { status: 200, headers });
}
