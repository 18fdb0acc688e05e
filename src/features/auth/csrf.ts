/**
 * CSRF defence for cookie-authenticated writes and for the public auth forms (login CSRF):
 * the browser must say the request comes from our own origin. Sec-Fetch-Site: same-origin is
 * enough; otherwise Origin must equal the request's own origin or PUBLIC_URL's origin. A write
 * with neither header is refused: every browser we support sends at least one. Bearer requests
 * are exempt (a cross-site page cannot set Authorization).
 */
import type { Config } from "../../config.ts";
import { ForbiddenError } from "../../errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

export function isSameOriginRequest(request: Request, config: Config): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin") return true;
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") return false;
  if (config.publicOrigin && origin === config.publicOrigin) return true;
  return origin === new URL(request.url).origin;
}

export function assertSameOrigin(request: Request, config: Config): void {
  if (!isUnsafeMethod(request.method)) return;
  if (!isSameOriginRequest(request, config)) {
    throw new ForbiddenError("This request did not come from this site, so it was refused. Reload the page and try again.", "CSRF_REJECTED");
  }
}
