/**
 * Every test file gets its own database. On PostgreSQL (TEST_DATABASE_URL, what CI uses) a
 * migrated template database is built once per run and each file gets `CREATE DATABASE … TEMPLATE`.
 * Without it, embedded PGlite: one migrated in-memory instance per run, dumped once and loaded
 * per file (about 0.6 s instead of 3 s for a fresh initdb).
 *
 * Database names carry the pid of the test process that made them (hearth_tpl_<pid>_…,
 * hearth_t_<pid>_…, hearth_e_<pid>_…; test/ops uses hearth_ops_<what>_<pid>_…). A run that is
 * killed or crashes cannot drop its own, so each run starts by dropping those whose process is
 * gone, never those of a live run (several runs share one PostgreSQL).
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { migrate } from "../../src/db/migrate.ts";
import { openPostgres, wrapPglite, type Database } from "../../src/db/open.ts";
import { Kysely, PGliteDialect } from "kysely";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;
const RUN_ID = `${process.pid}_${Date.now().toString(36)}`;

let templateReady: Promise<string | Blob> | undefined;

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

const TEST_DATABASE_NAME = /^hearth_(?:tpl|t|e|ops_[a-z]+)_(\d+)_[0-9a-z_]+$/;

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

/**
 * Drops the test databases of runs whose process no longer exists; returns their names. The pid
 * test assumes the runs sharing this PostgreSQL run on this machine (CI and developers do); a
 * reused pid only keeps a stale database one run longer.
 */
export async function dropStaleTestDatabases(url: string): Promise<string[]> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const dropped: string[] = [];
  try {
    const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like 'hearth\_%'`;
    for (const { datname } of rows) {
      const pid = Number(TEST_DATABASE_NAME.exec(datname)?.[1]);
      if (!pid || pid === process.pid || isProcessAlive(pid)) continue;
      try {
        await admin.unsafe(`drop database if exists "${datname}" with (force)`);
        dropped.push(datname);
      } catch (error) {
        // Another starting run dropping it at the same moment: theirs to finish.
        console.warn(`[db] could not drop stale ${datname}: ${String(error)}`);
      }
    }
  } finally {
    await admin.end();
  }
  return dropped;
}

async function buildPostgresTemplate(url: string): Promise<string> {
  const stale = await dropStaleTestDatabases(url);
  if (stale.length > 0) console.log(`[db] dropped ${stale.length} test database(s) left by runs that are gone: ${stale.join(", ")}`);
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const name = `hearth_tpl_${RUN_ID}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const tpl = await openPostgres(withDatabase(url, name), undefined, 1);
  await migrate(tpl.db);
  await tpl.close();
  return name;
}

/**
 * Drops this run's template (the test preload calls it after the last file). A run that is
 * killed first leaves it behind; the next run's dropStaleTestDatabases removes it.
 */
export async function dropRunTemplate(): Promise<void> {
  const ready = templateReady;
  templateReady = undefined;
  if (!ready || !TEST_DATABASE_URL) return;
  const template = await ready.catch(() => undefined);
  if (typeof template === "string") await dropDatabase(TEST_DATABASE_URL, template);
}

async function buildPgliteTemplate(): Promise<Blob> {
  const pglite = await PGlite.create();
  const db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
  await migrate(db);
  const dump = await pglite.dumpDataDir("none");
  await db.destroy();
  return dump;
}

async function dropDatabase(url: string, name: string): Promise<void> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

export type TestDatabase = Database & { url?: string; name: string };

/** A fresh, migrated database for one test file. Close it in afterAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  templateReady ??= TEST_DATABASE_URL ? buildPostgresTemplate(TEST_DATABASE_URL) : buildPgliteTemplate();
  const template = await templateReady;
  if (typeof template === "string") {
    const url = TEST_DATABASE_URL!;
    const name = `hearth_t_${RUN_ID}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name} template ${template}`);
    } finally {
      await admin.end();
    }
    const database = await openPostgres(withDatabase(url, name), undefined, 8);
    return {
      ...database,
      url: withDatabase(url, name),
      name,
      async close() {
        await database.close();
        await dropDatabase(url, name);
      },
    };
  }
  const pglite = await PGlite.create({ loadDataDir: template });
  return { ...wrapPglite(pglite), name: "pglite" };
}

/** Creates an empty (unmigrated) PostgreSQL database for tests that exercise boot itself. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!TEST_DATABASE_URL) return undefined;
  const name = `hearth_e_${RUN_ID}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return { url: withDatabase(TEST_DATABASE_URL, name), drop: () => dropDatabase(TEST_DATABASE_URL, name) };
}

/**
 * A database whose storage can be inspected afterwards (plaintext scans): PostgreSQL when
 * TEST_DATABASE_URL is set, else PGlite on a real data directory rather than the in-memory clone
 * other tests use, so the files PGlite writes can be scanned too. `removeDir` deletes that directory.
 */
export async function createInspectableTestDatabase(prefix: string): Promise<{ database: TestDatabase; pglite?: PGlite; pgliteDir?: string; removeDir(): void }> {
  if (TEST_DATABASE_URL) return { database: await createTestDatabase(), removeDir: () => {} };
  const pgliteDir = mkdtempSync(join(tmpdir(), `hearth-${prefix}-`));
  const pglite = await PGlite.create(pgliteDir);
  const database = { ...wrapPglite(pglite), name: `pglite-${prefix}` };
  await migrate(database.db);
  return { database, pglite, pgliteDir, removeDir: () => rmSync(pgliteDir, { recursive: true, force: true }) };
}
