/**
 * Kysely driver over postgres.js that runs a single query on the pool and reserves a connection
 * only for a transaction. kysely-postgres-js reserves (and builds a new `sql` instance for) a
 * connection around EVERY query: ~50 µs of CPU each, measured in scripts/bench/send-path.ts as
 * a fifth of a message send's CPU. Outside a transaction Kysely never needs the next query on the
 * same backend — except inside `db.connection().execute(…)`, which this code base does not use:
 * there, consecutive queries may land on different backends (session state such as SET or
 * session advisory locks would not carry over). Use a transaction for that.
 */
import { CompiledQuery, PostgresDriver, type DatabaseConnection, type QueryResult, type TransactionSettings } from "kysely";
import type { ReservedSql, Sql } from "postgres";

class PoolConnection implements DatabaseConnection {
  private reserved: ReservedSql | undefined;

  constructor(private readonly sql: Sql) {}

  /** Pins this Kysely connection to one backend until release (a transaction). */
  async reserve(): Promise<void> {
    this.reserved ??= await this.sql.reserve();
  }

  release(): void {
    this.reserved?.release();
    this.reserved = undefined;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await (this.reserved ?? this.sql).unsafe(query.sql, [...query.parameters] as never[], { prepare: true });
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
  constructor(private readonly sql: Sql) {
    super({} as never);
  }

  override async init(): Promise<void> {}

  override async acquireConnection(): Promise<DatabaseConnection> {
    return new PoolConnection(this.sql);
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
    await this.sql.end();
  }
}
