/**
 * Response helpers for pages and fragments. Views are hono/jsx components, which escape every
 * child and attribute; these helpers only stringify them and set headers.
 */
import { safeRedirectTarget } from "./redirect-target.ts";

export type Markup = string | { toString(): string };

export function isHtmx(request: Request): boolean {
  return request.headers.get("hx-request") === "true";
}

/** A full page. `Vary: HX-Request` keeps caches from mixing pages and fragments of one URL. */
export function page(markup: Markup, init: ResponseInit = {}): Response {
  // hono's JSX type admits Promises (async components), so tsc cannot catch an un-awaited async
  // view (an admin shell, a page helper): it would render "[object Promise]". Fail loudly instead.
  if (markup instanceof Promise) throw new Error("page() was given a Promise: await the view first");
  const headers = new Headers(init.headers);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("vary", "HX-Request");
  headers.set("cache-control", "no-store");
  return new Response("<!doctype html>" + String(markup), { ...init, headers });
}

/** An htmx fragment. */
export function fragment(markup: Markup, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("vary", "HX-Request");
  headers.set("cache-control", "no-store");
  return new Response(String(markup), { ...init, headers });
}

export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/**
 * Redirect that works for both plain navigation (303) and htmx (HX-Redirect). Every target passes
 * `safeRedirectTarget`: only a same-origin path leaves here, whatever a caller built it from.
 */
export function redirect(request: Request, location: string): Response {
  const target = safeRedirectTarget(request, location);
  if (isHtmx(request)) return new Response(null, { status: 204, headers: { "hx-redirect": target } });
  return seeOther(request, target);
}

/** A plain 303 to a same-origin path (for htmx too: its fetch follows it and swaps the result). */
export function seeOther(request: Request, location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { ...headers, location: safeRedirectTarget(request, location) } });
}
