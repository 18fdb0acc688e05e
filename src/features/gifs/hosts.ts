/**
 * Which media URLs Hearth passes on and proxies (docs/integrations.md "GIF search"): Giphy's
 * media hosts only (media.giphy.com, media0…media9.giphy.com, i.giphy.com), https, the default
 * port, a path ending in .gif, .webp or .mp4, no user info; the query string (Giphy's tracking
 * parameters) and fragment are dropped. Tests may allow http and their port (deps.gifs), never
 * another host.
 */
import type { AppDeps } from "../../deps.ts";

const HOST_RE = /^(?:media[0-9]?|i)\.giphy\.com$/;
const PATH_RE = /^\/[A-Za-z0-9._/-]{1,300}\.(gif|webp|mp4)$/;

export const MEDIA_TYPES = { gif: "image/gif", webp: "image/webp", mp4: "video/mp4" } as const;

/** The canonical media URL, or null when it is not one of Giphy's media files. */
export function mediaUrlOf(deps: AppDeps, raw: string): string | null {
  if (raw.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const insecure = deps.gifs?.allowHttpMedia === true;
  if (url.protocol !== "https:" && !(insecure && url.protocol === "http:")) return null;
  if (url.username || url.password) return null;
  if (url.port && !(insecure && deps.gifs?.mediaPolicy?.allowPort?.(Number(url.port)))) return null;
  if (!HOST_RE.test(url.hostname.toLowerCase())) return null;
  if (!PATH_RE.test(url.pathname) || url.pathname.includes("..") || url.pathname.includes("//")) return null;
  return `${url.protocol}//${url.host.toLowerCase()}${url.pathname}`;
}
