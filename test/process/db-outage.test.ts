/**
 * Health follows the database: a private PostgreSQL cluster (initdb on a free loopback port) is
 * stopped under a running Hearth and started again. The process must keep serving, report 503
 * "degraded" while the database is gone, and report ok again by itself once it returns.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getJson, pollUntil, spawnHearth } from "../helpers/process.ts";

const PG_BIN = ["17", "16", "15"].map((v) => `/usr/lib/postgresql/${v}/bin`).find((dir) => existsSync(join(dir, "initdb")));
const isRoot = process.getuid?.() === 0;
const pgUid = isRoot ? Number(Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim()) || undefined : undefined;
const skipReason = !PG_BIN ? "PostgreSQL server binaries (initdb, pg_ctl) are not installed" : isRoot && !pgUid ? "running as root without a postgres user to own the cluster" : undefined;
if (skipReason) console.log(`skip: database outage test: ${skipReason}`);

function runAsPg(cmd: string[]): { code: number; out: string } {
  const full = isRoot ? ["su", "postgres", "-s", "/bin/sh", "-c", cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ")] : cmd;
  const r = Bun.spawnSync(full, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

let clusterDir: string | undefined;
afterAll(() => {
  if (clusterDir) {
    runAsPg([join(PG_BIN!, "pg_ctl"), "-D", clusterDir, "-m", "immediate", "stop"]);
    rmSync(clusterDir, { recursive: true, force: true });
  }
});

describe.skipIf(Boolean(skipReason))("database outage", () => {
  test("health goes 503 degraded when PostgreSQL stops and recovers when it returns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-pgcluster-"));
    clusterDir = dir;
    if (pgUid) chownSync(dir, pgUid, pgUid);
    const pgdata = join(dir, "data");
    const init = runAsPg([join(PG_BIN!, "initdb"), "-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    expect(init.code).toBe(0);
    const port = freePort();
    const start = () => runAsPg([join(PG_BIN!, "pg_ctl"), "-D", pgdata, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "-l", join(dir, "log.txt"), "-w", "start"]);
    const stop = () => runAsPg([join(PG_BIN!, "pg_ctl"), "-D", pgdata, "-m", "fast", "-w", "stop"]);
    expect(start().code).toBe(0);

    const dataDir = mkdtempSync(join(tmpdir(), "hearth-outage-"));
    const hearth = spawnHearth({ env: { NODE_ENV: "test", LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres` } });
    try {
      const url = await hearth.ready();
      expect((await getJson(`${url}/health`)).body).toMatchObject({ status: "ok", db_healthy: true });

      expect(stop().code).toBe(0);
      const down = await pollUntil(() => getJson(`${url}/health`), (r) => r.status === 503, { attempts: 40, intervalMs: 250 });
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: "degraded", db_healthy: false });
      expect((await getJson(`${url}/api/health`)).status).toBe(503);

      expect(start().code).toBe(0);
      const up = await pollUntil(() => getJson(`${url}/health`), (r) => r.status === 200, { attempts: 60, intervalMs: 250 });
      expect(up.body).toMatchObject({ status: "ok", db_healthy: true });
      expect(hearth.proc.exitCode).toBeNull(); // served throughout
    } finally {
      await hearth.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
