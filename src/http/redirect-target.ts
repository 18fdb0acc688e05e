/**
 * Where may we send the browser? Every redirect Hearth issues (Location, HX-Redirect) and every
 * `next` / returnTo a user can choose goes through `sameOriginPath`, the one place that decides.
 *
 * Prefix checks ("starts with / but not //") are not enough: browsers drop tabs and newlines
 * anywhere in a URL and read "\" as "/", so "/\t/evil.example" and "/\evil.example" leave the
 * site. So the value is parsed with the WHATWG URL parser (the browser's own rules) against the
 * instance origin, must stay on that origin, and what we emit is the parser's serialisation
 * (pathname + search + hash), re-checked to be a path-only reference: the parser turns "/.//x"
 * into "//x", which a browser would read as the host "x".
 */

/** Longer values are refused, not truncated (a cut can land inside a percent escape). */
export const MAX_REDIRECT_PATH = 2048;

// A second, unrelated base: a path-only reference resolves onto whatever base it is given, a
// scheme-relative or absolute one does not.
const PROBE_ORIGIN = "https://redirect-probe.invalid";

/** C0 controls, space, DEL and backslash: never part of a path we would emit ourselves. */
const REFUSED_CHARACTERS = /[\u0000-\u0020\u007f\\]/;

/** The same-origin path `value` names, serialised as the browser will read it; undefined otherwise. */
export function sameOriginPath(value: unknown, origin: string): string | undefined {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_REDIRECT_PATH) return undefined;
  if (REFUSED_CHARACTERS.test(value) || value[0] !== "/" || value[1] === "/") return undefined;
  let base: URL;
  let url: URL;
  try {
    base = new URL(origin);
    url = new URL(value, base);
  } catch {
    return undefined;
  }
  if (url.origin !== base.origin) return undefined;
  const path = url.pathname + url.search + url.hash;
  if (path[0] !== "/" || path[1] === "/" || path[1] === "\\" || path.length > MAX_REDIRECT_PATH) return undefined;
  try {
    if (new URL(path, PROBE_ORIGIN).origin !== PROBE_ORIGIN || new URL(path, base).origin !== base.origin) return undefined;
  } catch {
    return undefined;
  }
  return path;
}

/** The origin redirects are checked against: PUBLIC_URL's when set, else the request's own. */
export function instanceOriginOf(request: Request, publicOrigin?: string): string {
  return publicOrigin ?? new URL(request.url).origin;
}

/** A user-chosen redirect target (`next`, returnTo), or `fallback` when it is not a same-origin path. */
export function safeRedirectTarget(request: Request, value: unknown, fallback = "/", publicOrigin?: string): string {
  return sameOriginPath(value, instanceOriginOf(request, publicOrigin)) ?? fallback;
}
