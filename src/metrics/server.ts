/**
 * The METRICS_ADDR listener: a second, minimal server that answers GET /metrics and nothing else
 * (404 for every other path, JSON error envelope), so the metrics can stay on a private interface
 * or port while the chat is public. It reads no body (Bun refuses any above 1 KiB) and carries the
 * same security headers as the main server. main.ts starts it after the app listens and stops it
 * at shutdown.
 */
import type { Server } from "bun";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { applySecurityHeaders } from "../http/security-headers.ts";
import { checkMetricsToken, metricsNotServed, metricsResponse } from "./access.ts";

function errorJson(error: AppError): Response {
  return applySecurityHeaders(
    new Response(JSON.stringify({ error: { code: error.code, message: error.publicMessage } }), {
      status: error.status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    }),
  );
}

export function startMetricsServer(opts: { hostname: string; port: number; token: string | undefined; log: Logger }): Server<undefined> {
  const server = Bun.serve({
    hostname: opts.hostname,
    port: opts.port,
    maxRequestBodySize: 1024,
    async fetch(request) {
      try {
        const path = new URL(request.url).pathname;
        if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) throw metricsNotServed();
        checkMetricsToken(request, opts.token);
        return applySecurityHeaders(await metricsResponse());
      } catch (error) {
        if (error instanceof AppError) return errorJson(error);
        opts.log.error("metrics.render_failed", { error: error instanceof Error ? error : String(error) });
        return errorJson(new AppError("INTERNAL_ERROR", 500, "Something went wrong."));
      }
    },
  });
  opts.log.info("metrics.listening", { address: `${opts.hostname}:${server.port}`, token_required: opts.token !== undefined });
  return server;
}
