/**
 * The one error renderer. /api and JSON clients get {"error":{"code","message"}}; htmx requests
 * get an error banner fragment that the client places in the form's error slot (or a toast);
 * page navigations get an error page. An unreachable database is 503 DATABASE_UNAVAILABLE with
 * Retry-After, and a unique violation a service did not pre-empt (a concurrent twin) is 409
 * CONCURRENT_CHANGE. Other unknown errors become a 500 with the request id, logged with details
 * that are never sent to the client.
 */
import { AppError, ConflictError, DatabaseUnavailableError } from "../errors.ts";
import { DATABASE_RETRY_AFTER_SECS, isDatabaseUnavailable, isUniqueViolation } from "../db/error-kinds.ts";
import type { Logger } from "../log.ts";
import { Layout } from "../../views/layout.tsx";
import { ErrorPage } from "../../views/error-page.tsx";
import { ErrorBanner } from "../../views/error-banner.tsx";
import type { AssetResolver } from "./assets.ts";
import { fragment, isHtmx, json, page, redirect } from "./render.ts";
import { safeRedirectTarget } from "./redirect-target.ts";

const TITLES: Record<number, string> = {
  400: "That did not work",
  401: "Please sign in",
  403: "Not allowed",
  404: "Page not found",
  409: "Conflict",
  413: "Too large",
  423: "Locked",
  429: "Slow down",
  500: "Something went wrong",
  503: "Temporarily unavailable",
};

export function wantsJson(request: Request, path: string): boolean {
  // A refused WebSocket upgrade is never a page (nor a redirect to /login): JSON with the code.
  // Probes and the metrics endpoint answer machines: JSON too.
  if (path.startsWith("/api/") || path === "/api" || path === "/health" || path === "/ws" || path === "/livez" || path === "/readyz" || path === "/metrics" || path.startsWith("/webhook/")) return true;
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

export function toAppError(error: unknown, requestId: string, log: Logger): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    // Expected during an outage: a warning per request, not an error with a stack.
    log.warn("http.database_unavailable", { requestId, error: error instanceof Error ? error.message : String(error) });
    return new DatabaseUnavailableError(DATABASE_RETRY_AFTER_SECS);
  }
  if (isUniqueViolation(error)) {
    // Services check for duplicates first; this is a concurrent twin that won the race.
    log.warn("http.unique_violation", { requestId, constraint: (error as { constraint_name?: string; constraint?: string }).constraint_name ?? (error as { constraint?: string }).constraint });
    return new ConflictError("Another request changed this at the same time. Reload and try again.", "CONCURRENT_CHANGE");
  }
  log.error("http.unhandled_error", { requestId, error: error instanceof Error ? error : String(error) });
  return new AppError("INTERNAL_ERROR", 500, `An unexpected error occurred. If it keeps happening, tell your administrator the request id ${requestId}.`);
}

export function renderError(args: { error: AppError; request: Request; path: string; requestId: string; assets?: AssetResolver }): Response {
  const { error, request, path, requestId } = args;
  const headers: Record<string, string> = { "x-request-id": requestId };
  if (error.details?.retryAfterSecs !== undefined) headers["retry-after"] = String(error.details.retryAfterSecs);
  if (wantsJson(request, path) || !args.assets) {
    const body: { error: { code: string; message: string; fields?: Record<string, string>; retry_after_secs?: number; request_id?: string } } = {
      // `data`: a service's stable extra members (e.g. `communities` of a refused deletion); never overrides the envelope's own.
      error: { ...(error.details?.data ?? {}), code: error.code, message: error.publicMessage },
    };
    if (error.details?.fields) body.error.fields = error.details.fields;
    if (error.details?.retryAfterSecs !== undefined) body.error.retry_after_secs = error.details.retryAfterSecs;
    if (error.status >= 500) body.error.request_id = requestId;
    return json(body, { status: error.status, headers });
  }
  if (error.status === 401 && request.method === "GET") {
    // A signed-out visit to a page is not an error to show: send the browser to the sign-in page.
    // The page asked for becomes `next`, if it is a path we would redirect to at all.
    const url = new URL(request.url);
    const next = safeRedirectTarget(request, url.pathname + url.search);
    const response = redirect(request, next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`);
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  }
  if (isHtmx(request)) {
    // The client glue moves the banner into the submitting form's error slot, or shows a toast.
    return fragment(<ErrorBanner message={error.publicMessage} requestId={error.status >= 500 ? requestId : undefined} />, { status: error.status, headers });
  }
  const title = TITLES[error.status] ?? "Error";
  return page(
    <Layout title={title} assets={args.assets.page()}>
      <ErrorPage status={error.status} title={title} message={error.publicMessage} requestId={error.status >= 500 ? requestId : undefined} />
    </Layout>,
    { status: error.status, headers },
  );
}
