/**
 * Row types of every table, as Kysely sees them. Kept by hand next to the migrations: when a
 * migration adds or changes a table, change its interface here in the same commit
 * (test/db/migrations.test.ts checks that every table and column declared here exists).
 * Row types stay inside queries.ts/access.ts files; services and views get domain objects.
 */
import type { ColumnType, Generated } from "kysely";

export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type Json<T = unknown> = ColumnType<T, string, string>;

export interface SchemaMigrationsTable {
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface InstanceSettingsTable {
  key: string;
  value: Json;
  updated_at: Generated<Date>;
}

export interface DB {
  schema_migrations: SchemaMigrationsTable;
  instance_settings: InstanceSettingsTable;
}
