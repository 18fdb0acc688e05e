/**
 * Kysely driver over postgres.js that runs a single query on the pool and reserves a connection
 * only for a transaction. kysely-postgres-js reserves (and builds a new `sql` instance for) a
 * connection around EVERY query: ~50 µs of CPU each, measured in scripts/bench/send-path.ts as
 * a fifth of a message send's CPU. Outside a transaction Kysely never needs the next query on the
 * same backend — except inside `db.connection().execute(…)`, which this code base does not use:
 * there, consecutive queries may land on different backends (session state such as SET or
 * session advisory locks would not carry over). Use a transaction for that.
 *
 * Failing fast when the database is gone (docs/operations.md, "Database outage"): new connections
 * give up after connect_timeout (open.ts), but a query on a connection that was open when the
 * server froze or the network dropped would wait for TCP to notice (minutes). So a query still
 * running after SLOW_QUERY_CHECK_MS makes the driver ask, on a fresh connection, whether the
 * server answers at all. If it does not, the pool is dropped and replaced: every query waiting on
 * it fails at once with CONNECTION_DESTROYED (a 503 DATABASE_UNAVAILABLE for the request), and the
 * next query connects afresh. A slow query on a live server is left alone.
 */
import { CompiledQuery, PostgresDriver, type DatabaseConnection, type QueryResult, type TransactionSettings } from "kysely";
import type { ReservedSql, Sql } from "postgres";
import { observePoolWait } from "../metrics/registry.ts";

/** A query still running after this long makes the driver check that the server answers. */
export const SLOW_QUERY_CHECK_MS = 1_000;
/** After a check found the server answering, slow queries do not trigger another for this long. */
const CHECK_AGAIN_AFTER_MS = 5_000;

type Reachability = {
  /** A fresh pool (postgres.js client). */
  connect(): Sql;
  /** True when the server answers a trivial query on a new connection, within its own timeout. */
  probe(): Promise<boolean>;
  onUnreachable?(): void;
};

class PoolConnection implements DatabaseConnection {
  private reserved: ReservedSql | undefined;

  constructor(private readonly driver: PostgresPoolDriver) {}

  /** Pins this Kysely connection to one backend until release (a transaction). */
  async reserve(): Promise<void> {
    if (this.reserved) return;
    const started = performance.now();
    this.reserved = await this.driver.watch(this.driver.pool.reserve());
    observePoolWait((performance.now() - started) / 1000);
  }

  release(): void {
    this.reserved?.release();
    this.reserved = undefined;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.driver.watch((this.reserved ?? this.driver.pool).unsafe(query.sql, [...query.parameters] as never[], { prepare: true }));
    const { command, count } = result;
    return {
      numAffectedRows: command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE" ? BigInt(count) : undefined,
      rows: Array.from(result.values()) as R[],
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming is not supported by this driver");
  }
}

export class PostgresPoolDriver extends PostgresDriver {
  /** The current pool; replaced when the server stopped answering. */
  pool: Sql;
  private checking: Promise<void> | undefined;
  private lastAnsweredMs = -Infinity;

  constructor(private readonly reachability: Reachability) {
    super({} as never);
    this.pool = reachability.connect();
  }

  override async init(): Promise<void> {}

  override async acquireConnection(): Promise<DatabaseConnection> {
    return new PoolConnection(this);
  }

  /** Resolves like `pending`; if it is still running after SLOW_QUERY_CHECK_MS, checks the server. */
  async watch<T>(pending: Promise<T>): Promise<T> {
    const timer = setTimeout(() => void this.checkReachable(), SLOW_QUERY_CHECK_MS);
    try {
      return await pending;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One check at a time; an unreachable server gets its pool dropped (waiting queries fail now). */
  checkReachable(): Promise<void> {
    if (performance.now() - this.lastAnsweredMs < CHECK_AGAIN_AFTER_MS) return Promise.resolve();
    this.checking ??= this.reachability
      .probe()
      .then((answered) => {
        if (answered) {
          this.lastAnsweredMs = performance.now();
          return;
        }
        const dead = this.pool;
        this.pool = this.reachability.connect();
        this.reachability.onUnreachable?.();
        void dead.end({ timeout: 0 }).catch(() => {});
      })
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PoolConnection).reserve();
    await super.beginTransaction(connection, settings);
  }

  // Kysely's own rollback marks a `pg` client for discarding on failure; here a failed ROLLBACK
  // just throws, and the release below returns the backend (postgres.js drops broken ones).
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  override async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PoolConnection).release();
  }

  override async destroy(): Promise<void> {
    await this.pool.end();
  }
}
