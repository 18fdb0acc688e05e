/**
 * GET /health and /api/health (seeds/003): 200 {"status":"ok",...} while the database answers,
 * 503 "degraded" while it does not. The process keeps serving either way and recovers by itself
 * when the database returns (the driver reconnects on the next query).
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";

export function healthRoutes(deps: AppDeps) {
  const startedAt = Date.now();
  const handler = async () => {
    const dbHealthy = await deps.database.ping(2_000);
    return json(
      {
        status: dbHealthy ? "ok" : "degraded",
        version: deps.config.version,
        uptime_secs: Math.floor((Date.now() - startedAt) / 1000),
        db_healthy: dbHealthy,
      },
      { status: dbHealthy ? 200 : 503 },
    );
  };
  return new Elysia({ name: "health" }).get("/health", handler).get("/api/health", handler);
}
