/**
 * Opens the database: PostgreSQL through postgres.js when DATABASE_URL is set, otherwise embedded
 * PGlite in DATA_DIR/db behind an exclusive directory lock. Both go through Kysely with one SQL
 * dialect (PGlite is PostgreSQL 18, production is 15+: keep SQL to what both share).
 */
import { Kysely, PGliteDialect, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from "kysely";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { join } from "node:path";
import { lockDataDir, type DirLock } from "./dir-lock.ts";
import { restrictDataDir } from "../data-dir.ts";
import { PostgresPoolDriver } from "./postgres-driver.ts";
import { isDatabaseUnavailable } from "./error-kinds.ts";
import type { DB } from "./schema.ts";
import type { Logger } from "../log.ts";
import { observeDbQuery } from "../metrics/registry.ts";

export type Db = Kysely<DB>;

export type Database = {
  db: Db;
  kind: "postgres" | "pglite";
  /** True when a trivial query answers within `timeoutMs`. Never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
};

/** Embedded PGlite under Bun keeps garbage that is not collected promptly (RSS grows to GBs over
 * 20k inserts; stack-spike §4, measured again in scripts/bench/pglite-memory.ts). An asynchronous
 * collection every N queries, plus a slow timer for idle periods, keeps it bounded. */
const PGLITE_GC_EVERY_QUERIES = 500;
const PGLITE_GC_INTERVAL_MS = 10_000;

/** Counts queries and asks Bun for an asynchronous GC every PGLITE_GC_EVERY_QUERIES of them. */
class PgliteGcPlugin implements KyselyPlugin {
  private queries = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (++this.queries % PGLITE_GC_EVERY_QUERIES === 0) Bun.gc(false);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function serializeJson(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A new connection that is not ready (TCP + startup + auth) within this many seconds fails with
 * CONNECT_TIMEOUT: an unreachable or frozen server costs a request about this long, not more
 * (the 503 DATABASE_UNAVAILABLE budget is 5 s; docs/operations.md, "Database outage").
 */
export const CONNECT_TIMEOUT_SECS = 2;

/** `onQuery` sees every statement sent (BEGIN and COMMIT included): scripts/bench/send-path.ts counts them. */
export async function openPostgres(url: string, log?: Logger, max = 16, onQuery?: (sql: string) => void): Promise<Database> {
  const options = {
    debug: onQuery ? (_connection: number, query: string) => onQuery(query) : undefined,
    connect_timeout: CONNECT_TIMEOUT_SECS,
    idle_timeout: 60,
    onnotice: () => {},
    // int8 arrives as a string by default; our int8 values (sequences, counts) fit in a double.
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
      // Our Kysely schema inserts json/jsonb as JSON *text* (what PGlite expects too); postgres.js
      // would JSON.stringify that text again and store a JSON string. Pass text through as is.
      json: { to: 114, from: [114], serialize: serializeJson, parse: (x: string) => JSON.parse(x) },
      jsonb: { to: 3802, from: [3802], serialize: serializeJson, parse: (x: string) => JSON.parse(x) },
    },
    connection: { application_name: "hearth" },
  } satisfies postgres.Options<Record<string, postgres.PostgresType>>;
  const reachability = {
    connect: () => postgres(url, { ...options, max }),
    probe: () => probePostgres(url, options),
    onUnreachable: () => log?.warn("database.unreachable", { action: "pool dropped; the next query reconnects" }),
  };
  // Our driver, not kysely-postgres-js: single queries run on the pool without reserving a
  // connection each time, and a pool whose server stopped answering is replaced (postgres-driver.ts).
  const db = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new PostgresPoolDriver(reachability),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    // Every statement's latency, for the metrics (hearth_db_query_duration_seconds).
    log: observeDbQuery,
  });
  log?.info("database.opened", { kind: "postgres" });
  return {
    db,
    kind: "postgres",
    ping: (timeoutMs = 2_000) => pingDb(db, timeoutMs),
    async close() {
      await db.destroy();
    },
  };
}

export async function openPglite(dataDir: string, log?: Logger): Promise<Database> {
  const lock: DirLock = lockDataDir(dataDir);
  try {
    const started = performance.now();
    const pglite = await PGlite.create(join(dataDir, "db"));
    // PGlite chmods the files it unpacks (first start) and rewrites to 0644 (relcache init files):
    // the umask does not cover either, so narrow them here, quietly (they are its own, not an
    // operator's mistake; DATA_DIR is 0700 anyway).
    const narrowed = restrictDataDir(join(dataDir, "db")).fixed.length;
    log?.info("database.opened", { kind: "pglite", dir: join(dataDir, "db"), ms: Math.round(performance.now() - started), modes_narrowed: narrowed });
    return wrapPglite(pglite, () => lock.release());
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Wraps an already-created PGlite (tests clone one from a migrated template). */
export function wrapPglite(pglite: PGlite, onClose: () => void = () => {}): Database {
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }), plugins: [new PgliteGcPlugin()], log: observeDbQuery });
  const gcTimer = setInterval(() => Bun.gc(false), PGLITE_GC_INTERVAL_MS);
  gcTimer.unref();
  let closed = false;
  return {
    db,
    kind: "pglite",
    ping: (timeoutMs = 2_000) => pingDb(db, timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(gcTimer);
      await db.destroy(); // PGliteDialect closes the PGlite instance
      onClose();
    },
  };
}

export async function openDatabase(opts: { databaseUrl: string | undefined; dataDir: string }, log?: Logger): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, log) : openPglite(opts.dataDir, log);
}

/**
 * Does the server answer at all? A trivial query on a connection of its own (the pool's may all be
 * stuck on a frozen server), bounded by the connect timeout plus a second. An error the server
 * sent (too many connections, say) is an answer; a socket error or silence is not.
 */
async function probePostgres(url: string, options: postgres.Options<Record<string, postgres.PostgresType>>): Promise<boolean> {
  const probe = postgres(url, { ...options, debug: undefined, max: 1, idle_timeout: 1 });
  let timer: Timer | undefined;
  const silence = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CONNECT_TIMEOUT_SECS * 1000 + 1000);
  });
  const answer = probe`select 1`.then(
    () => true,
    (error: unknown) => !isDatabaseUnavailable(error) || (error as { code?: string }).code === "53300",
  );
  try {
    return await Promise.race([answer, silence]);
  } finally {
    clearTimeout(timer);
    void probe.end({ timeout: 0 }).catch(() => {});
  }
}

async function pingDb(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = sql`select 1`.execute(db).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
