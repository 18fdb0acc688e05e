/**
 * GET /metrics on the public address: served only when METRICS_TOKEN is set and METRICS_ADDR is
 * not (access.ts). It passes through the whole pipeline like any route (rate limit, body guard,
 * security headers), and is counted in hearth_http_requests_total like the others.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { checkMetricsToken, metricsNotServed, metricsResponse } from "./access.ts";

export function metricsRoutes(deps: AppDeps) {
  const { listen, token } = deps.config.metrics;
  const servedHere = listen === undefined && token !== undefined;
  return new Elysia({ name: "metrics" }).get("/metrics", ({ request }) => {
    if (!servedHere) throw metricsNotServed();
    checkMetricsToken(request, token);
    return metricsResponse();
  });
}
