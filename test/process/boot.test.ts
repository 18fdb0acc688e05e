/**
 * Boot as an operator sees it: real processes, real data directories, real PostgreSQL.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { getJson, REPO_ROOT, signalGroup, spawnHearth } from "../helpers/process.ts";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { readMigrations } from "../../src/db/migrate.ts";

const temps: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

const BASE_ENV = { LISTEN_ADDR: "127.0.0.1:0", LOG_LEVEL: "info" };

describe("zero-setup start", () => {
  test("from a fresh copy with no env, the README's start line serves /health", async () => {
    const copy = tempDir("hearth-clone-");
    const listed = Bun.spawnSync(["git", "ls-files", "-co", "--exclude-standard"], { cwd: REPO_ROOT }).stdout.toString().trim().split("\n");
    for (const file of listed) {
      if (!file || file.startsWith("test/") || file.startsWith("docs/")) continue;
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      try {
        cpSync(join(REPO_ROOT, file), join(copy, file));
      } catch {
        // deleted in the work tree but still listed: not part of the copy
      }
    }
    const dataDir = join(copy, "data");
    // The README line, with only a free port and a temp DATA_DIR added.
    const hearth = spawnHearth({ cwd: copy, env: { ...BASE_ENV, DATA_DIR: dataDir }, cmd: ["sh", "-c", "bun install && bun start"] });
    try {
      const url = await hearth.ready(120_000);
      const { status, body } = await getJson(`${url}/health`);
      expect(status).toBe(200);
      expect(body.status).toBe("ok");
      expect(body.db_healthy).toBe(true);
      expect(body.version).toBe((await Bun.file(join(REPO_ROOT, "package.json")).json()).version);
      expect(typeof body.uptime_secs).toBe("number");
      expect(hearth.output()).toContain("secrets.generated");
      const mode = (await import("node:fs")).statSync(join(dataDir, "secrets", "jwt_private.pem")).mode & 0o777;
      expect(mode).toBe(0o600);
    } finally {
      await hearth.stop();
    }
  }, 180_000);
});

describe("stopping a started server", () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  test("stop() ends the server a shell started, not just the shell (no server outlives its test)", async () => {
    // Like the README's start line: a shell whose child is the server (`; exit` keeps sh from exec'ing it).
    const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: tempDir("hearth-group-") }, cmd: ["sh", "-c", "bun src/main.ts; exit $?"] });
    let members: number[] = [];
    try {
      await hearth.ready();
      members = Bun.spawnSync(["pgrep", "-g", String(hearth.proc.pid)]).stdout.toString().trim().split(/\s+/).filter(Boolean).map(Number);
      expect(members).toContain(hearth.proc.pid); // the shell leads its own group...
      expect(members.length).toBeGreaterThanOrEqual(2); // ...and the server is in it
    } finally {
      await hearth.stop();
    }
    expect(signalGroup(hearth.proc.pid, 0)).toBe(false);
    expect(members.filter(alive)).toEqual([]);
  }, 120_000);
});

describe("embedded database directory lock", () => {
  test("a second process on the same DATA_DIR refuses to start; the first one's data is intact", async () => {
    const dataDir = tempDir("hearth-lock-");
    const first = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: dataDir } });
    let url: string;
    try {
      url = await first.ready();
      const second = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: dataDir } });
      const code = await second.exited;
      expect(code).not.toBe(0);
      expect(second.output()).toContain("already in use by another Hearth process");
      expect((await getJson(`${url}/health`)).status).toBe(200); // the first keeps serving
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const pglite = await PGlite.create(join(dataDir, "db"));
    try {
      const rows = await pglite.query<{ name: string }>("select name from schema_migrations order by name");
      expect(rows.rows.map((r) => r.name)).toEqual(readMigrations().map((m) => m.name));
      const instance = await pglite.query<{ value: string }>("select value from instance_settings where key = 'instance_id'");
      expect(instance.rows).toHaveLength(1);
    } finally {
      await pglite.close();
    }
  }, 120_000);
});

describe("refusing to start", () => {
  test("production without secrets exits 1 naming each missing secret", async () => {
    const dataDir = tempDir("hearth-prod-");
    const proc = spawnHearth({ env: { ...BASE_ENV, NODE_ENV: "production", DATA_DIR: dataDir, JWT_PRIVATE_KEY_PATH: join(dataDir, "nope.pem"), JWT_PUBLIC_KEY_PATH: join(dataDir, "nope.pub.pem") } });
    expect(await proc.exited).toBe(1);
    const out = proc.output();
    expect(out).toContain("TOTP_ENCRYPTION_KEY");
    expect(out).toContain("openssl rand -hex 32");
    expect(out).toContain("JWT_PRIVATE_KEY_PATH");
    expect(out).toContain("JWT_PUBLIC_KEY_PATH");
    expect(out).toContain("generate-keys.sh");
  });

  test("invalid env exits 1 listing every bad variable", async () => {
    const proc = spawnHearth({ env: { REGISTRATION_MODE: "maybe", MAX_FILE_SIZE_MB: "-3", LISTEN_ADDR: "nonsense", TOTP_ENCRYPTION_KEY: "xyz" } });
    expect(await proc.exited).toBe(1);
    const out = proc.output();
    for (const name of ["REGISTRATION_MODE", "MAX_FILE_SIZE_MB", "LISTEN_ADDR", "TOTP_ENCRYPTION_KEY"]) expect(out).toContain(name);
    expect(out).toContain("one of: open, invite_only, closed");
  });
});

describe.skipIf(!TEST_DATABASE_URL)("PostgreSQL boot", () => {
  if (!TEST_DATABASE_URL) console.log("skip: PostgreSQL boot tests need TEST_DATABASE_URL");

  test("two instances started at the same moment on one empty database both come up; each migration is applied once", async () => {
    const empty = (await createEmptyPostgresDatabase())!;
    const env = (dir: string) => ({ ...BASE_ENV, DATABASE_URL: empty.url, DATA_DIR: dir });
    const shared = tempDir("hearth-pg-");
    // Both share the secrets dir so they would accept each other's tokens, like a real deployment.
    const a = spawnHearth({ env: env(shared) });
    const b = spawnHearth({ env: env(shared) });
    try {
      const [urlA, urlB] = await Promise.all([a.ready(), b.ready()]);
      expect((await getJson(`${urlA}/health`)).body.status).toBe("ok");
      expect((await getJson(`${urlB}/health`)).body.status).toBe("ok");
      const migratedLogs = [a.output(), b.output()].filter((o) => o.includes('"msg":"database.migrated"'));
      expect(migratedLogs).toHaveLength(1);
      const sql = postgres(empty.url, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<{ name: string; n: number }[]>`select name, count(*)::int as n from schema_migrations group by name order by name`;
        expect(rows.map((r) => r.name)).toEqual(readMigrations().map((m) => m.name));
        expect(rows.every((r) => r.n === 1)).toBe(true);
        const ids = await sql`select value from instance_settings where key = 'instance_id'`;
        expect(ids).toHaveLength(1);
      } finally {
        await sql.end();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await empty.drop();
    }
  }, 120_000);
});
