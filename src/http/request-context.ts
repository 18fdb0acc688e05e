/**
 * Per-request state the pipeline (src/app.ts) resolves once: request id, client IP (trusted
 * proxies honoured), start time, path, and the answer's status for the metrics. Keyed by the
 * Request object, so features read the client IP through clientIpOf without re-deriving it from
 * proxy headers, and without importing src/app.ts.
 */
export type RequestState = { requestId: string; clientIp: string; startedMs: number; path: string; status?: number };

export const requestStates = new WeakMap<Request, RequestState>();

/** The client IP as resolved by the pipeline (trusted proxies honoured); "unknown" before it ran. */
export function clientIpOf(request: Request): string {
  return requestStates.get(request)?.clientIp ?? "unknown";
}
