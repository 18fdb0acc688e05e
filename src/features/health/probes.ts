/**
 * Probes for orchestrators (docs/operations.md, "Health probes"); GET /health stays as seeds/003
 * defines it (routes.ts).
 *
 *   GET /livez   200 {"status":"alive"} whenever the process answers HTTP at all: no database,
 *                no Redis, no I/O. A failing liveness probe means "restart me"; an outage of a
 *                dependency must not restart every instance.
 *   GET /readyz  200 {"status":"ready","checks":{…}} when this instance can serve: the database
 *                answers, every migration file this version ships is applied with the same
 *                checksum, and Redis answers PING when REDIS_URL is set. Otherwise 503
 *                {"status":"not_ready","failed":[names],"checks":{…}} naming what failed. Each
 *                check is bounded by READY_CHECK_TIMEOUT_MS; concurrent probes share one run.
 */
import { Elysia } from "elysia";
import { RedisClient } from "bun";
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import { readMigrations, type Migration } from "../../db/migrate.ts";
import { json } from "../../http/render.ts";

export const READY_CHECK_TIMEOUT_MS = 2_000;

export type ReadyChecks = {
  database: "ok" | "unreachable";
  /** "unknown" while the database is unreachable. */
  migrations: "ok" | "pending" | "changed" | "unknown";
  redis: "ok" | "unreachable" | "not_configured";
};

function withTimeout<T>(pending: Promise<T>, fallback: T, ms = READY_CHECK_TIMEOUT_MS): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([pending.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

/** Every shipped migration applied, unchanged? (The boot applies them; a restore of an older dump, say, undoes that.) */
async function checkMigrations(deps: AppDeps, shipped: readonly Migration[]): Promise<ReadyChecks["migrations"]> {
  const applied = await sql<{ name: string; checksum: string }>`select name, checksum from schema_migrations`.execute(deps.database.db).then(
    (r) => new Map(r.rows.map((row) => [row.name, row.checksum])),
    () => new Map<string, string>(), // no table yet: everything is pending
  );
  if (shipped.some((m) => !applied.has(m.name))) return "pending";
  if (shipped.some((m) => applied.get(m.name) !== m.checksum)) return "changed";
  return "ok";
}

/** A connection of its own per probe: the answer is about Redis now, not a client's reconnect state. */
async function pingRedis(url: string): Promise<boolean> {
  const client = new RedisClient(url, { connectionTimeout: READY_CHECK_TIMEOUT_MS, autoReconnect: false });
  try {
    await client.connect();
    return (await client.send("PING", [])) === "PONG";
  } finally {
    client.close();
  }
}

export async function runReadyChecks(deps: AppDeps, shipped: readonly Migration[]): Promise<ReadyChecks> {
  const redisUrl = deps.config.redisUrl;
  const redisCheck = async (): Promise<ReadyChecks["redis"]> => {
    if (!redisUrl) return "not_configured";
    return (await withTimeout(pingRedis(redisUrl), false)) ? "ok" : "unreachable";
  };
  const [dbUp, redis] = await Promise.all([deps.database.ping(READY_CHECK_TIMEOUT_MS), redisCheck()]);
  const migrations: ReadyChecks["migrations"] = dbUp ? await withTimeout<ReadyChecks["migrations"]>(checkMigrations(deps, shipped), "unknown") : "unknown";
  return { database: dbUp ? "ok" : "unreachable", migrations, redis };
}

/** The checks that failed; migrations that could not be read count only when the database answered. */
export function failedChecks(checks: ReadyChecks): (keyof ReadyChecks)[] {
  const failed: (keyof ReadyChecks)[] = [];
  if (checks.database !== "ok") failed.push("database");
  else if (checks.migrations !== "ok") failed.push("migrations");
  if (checks.redis === "unreachable") failed.push("redis");
  return failed;
}

export function probeRoutes(deps: AppDeps) {
  const shipped = readMigrations();
  let running: Promise<ReadyChecks> | undefined;
  return new Elysia({ name: "probes" })
    .get("/livez", () => json({ status: "alive" }))
    .get("/readyz", async () => {
      running ??= runReadyChecks(deps, shipped).finally(() => {
        running = undefined;
      });
      const checks = await running;
      const failed = failedChecks(checks);
      if (failed.length === 0) return json({ status: "ready", checks });
      return json({ status: "not_ready", failed, checks }, { status: 503 });
    });
}
