/**
 * Who may read GET /metrics (docs/operations.md, "Metrics"):
 *  - METRICS_ADDR set: only its own listener serves it (server.ts); the public address answers 404
 *    as for any unknown path. With METRICS_TOKEN also set, that listener requires the token too.
 *  - METRICS_ADDR unset, METRICS_TOKEN set: the public address serves it to `Authorization: Bearer
 *    <METRICS_TOKEN>`; without it 401 METRICS_TOKEN_REQUIRED, with another 401 METRICS_TOKEN_INVALID.
 *  - neither: not served (404).
 * The token is compared in constant time (digests of equal length).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { NotFoundError, UnauthenticatedError } from "../errors.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./registry.ts";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Throws the refusal, or returns when the request may read the metrics. */
export function checkMetricsToken(request: Request, token: string | undefined): void {
  if (token === undefined) return;
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthenticatedError("GET /metrics needs the METRICS_TOKEN as a Bearer token.", "METRICS_TOKEN_REQUIRED");
  if (!timingSafeEqual(digest(match[1]!), digest(token))) throw new UnauthenticatedError("That metrics token is not valid.", "METRICS_TOKEN_INVALID");
}

export function metricsNotServed(): NotFoundError {
  return new NotFoundError("There is nothing at this address.");
}

let rendering: Promise<string> | undefined;

/**
 * The exposition as a response. Concurrent scrapes share one rendering (a flood of requests
 * costs one collection at a time, not one each).
 */
export async function metricsResponse(): Promise<Response> {
  rendering ??= renderMetrics().finally(() => {
    rendering = undefined;
  });
  const text = await rendering;
  return new Response(text, { headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" } });
}
