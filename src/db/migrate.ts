/**
 * Applies migrations/NNNN_name.sql at boot. All pending files run in ONE transaction that first
 * takes pg_advisory_xact_lock: when two instances boot at the same moment on an empty database,
 * the second waits for the first to commit, then finds nothing pending. Each file is recorded in
 * schema_migrations with a checksum; an applied file whose content changed stops the boot
 * (migrations are frozen once landed: fix forward with a new file).
 */
import { sql, type Kysely } from "kysely";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { splitSqlStatements } from "./sql-split.ts";
import type { Logger } from "../log.ts";

export const MIGRATIONS_DIR = resolve(import.meta.dir, "../../migrations");
/** Arbitrary constant shared by every Hearth instance: "hearth" in ASCII. */
const MIGRATION_LOCK_KEY = 0x6865617274;

export type Migration = { name: string; sql: string; checksum: string };

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const text = readFileSync(join(dir, name), "utf8");
      return { name, sql: text, checksum: createHash("sha256").update(text).digest("hex") };
    });
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

// Kysely<any>: the migrator runs before the schema it describes exists.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrate(db: Kysely<any>, log?: Logger, migrations = readMigrations()): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
    await sql`create table if not exists schema_migrations (
      name text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`.execute(tx);
    const applied = await sql<{ name: string; checksum: string }>`select name, checksum from schema_migrations`.execute(tx);
    const known = new Map(applied.rows.map((r) => [r.name, r.checksum]));
    const ran: string[] = [];
    for (const m of migrations) {
      const checksum = known.get(m.name);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) {
          throw new MigrationError(`Migration ${m.name} was changed after it was applied. Migrations are frozen: add a new migration instead.`);
        }
        continue;
      }
      for (const statement of splitSqlStatements(m.sql)) await sql.raw(statement).execute(tx);
      await sql`insert into schema_migrations (name, checksum) values (${m.name}, ${m.checksum})`.execute(tx);
      ran.push(m.name);
    }
    if (ran.length > 0) log?.info("database.migrated", { applied: ran });
    return ran;
  });
}
