/**
 * GET /livez and GET /readyz (src/features/health/probes.ts): liveness never depends on anything;
 * readiness fails, naming the check, while a migration this version ships is not applied (or was
 * changed), and while Redis does not answer when REDIS_URL is set. The database being unreachable
 * is proven on a real PostgreSQL that is stopped and frozen: test/process/db-outage.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { readMigrations } from "../../../src/db/migrate.ts";
import { runReadyChecks } from "../../../src/features/health/probes.ts";

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log("skip: /readyz with Redis: REDIS_URL is not set (CI sets redis://127.0.0.1:6379)");

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx?.close());

async function probe(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await ctx.request(path);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe("GET /livez", () => {
  test("200 alive, with the headers every response carries", async () => {
    const r = await probe("/livez");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "alive" });
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(r.headers.get("cache-control")).toBe("no-store");
  });
});

describe("GET /readyz", () => {
  test("200 ready with every check named while the database answers and the migrations are applied", async () => {
    const r = await probe("/readyz");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok", redis: "not_configured" } });
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  test("503 naming migrations while one is pending or changed; /livez stays 200; ready again once applied", async () => {
    const last = readMigrations().at(-1)!;
    const row = await sql<{ name: string; checksum: string; applied_at: Date }>`select name, checksum, applied_at from schema_migrations where name = ${last.name}`.execute(ctx.database.db);
    expect(row.rows).toHaveLength(1);
    await sql`delete from schema_migrations where name = ${last.name}`.execute(ctx.database.db);
    try {
      const pending = await probe("/readyz");
      expect(pending.status).toBe(503);
      expect(pending.body).toEqual({ status: "not_ready", failed: ["migrations"], checks: { database: "ok", migrations: "pending", redis: "not_configured" } });
      expect((await probe("/livez")).status).toBe(200);
    } finally {
      await sql`insert into schema_migrations (name, checksum, applied_at) values (${last.name}, ${last.checksum}, ${row.rows[0]!.applied_at})`.execute(ctx.database.db);
    }
    expect((await probe("/readyz")).status).toBe(200);

    await sql`update schema_migrations set checksum = 'edited' where name = ${last.name}`.execute(ctx.database.db);
    try {
      const changed = await probe("/readyz");
      expect(changed.status).toBe(503);
      expect(changed.body).toMatchObject({ failed: ["migrations"], checks: { migrations: "changed" } });
    } finally {
      await sql`update schema_migrations set checksum = ${last.checksum} where name = ${last.name}`.execute(ctx.database.db);
    }
    expect((await probe("/readyz")).status).toBe(200);
  });

  test("refuses undeclared input like every route (a NUL in the query is 400 with a code)", async () => {
    const r = await probe("/readyz?x=%00");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("INVALID_TEXT");
  });
});

describe("GET /readyz and Redis", () => {
  test("a Redis that does not answer fails the redis check alone", async () => {
    const checks = await runReadyChecks({ ...ctx.deps, config: { ...ctx.config, redisUrl: "redis://127.0.0.1:1" } }, readMigrations());
    expect(checks).toEqual({ database: "ok", migrations: "ok", redis: "unreachable" });
  });

  describe.skipIf(!REDIS_URL)("with REDIS_URL", () => {
    let withRedis: TestContext;
    beforeAll(async () => {
      withRedis = await createTestContext({ env: { REDIS_URL: REDIS_URL! } });
    });
    afterAll(() => withRedis?.close());

    test("200 with redis ok", async () => {
      const res = await withRedis.request("/readyz");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok", redis: "ok" } });
    });
  });
});
