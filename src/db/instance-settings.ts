/**
 * Small typed access to instance_settings (key → jsonb) for settings admins change at runtime
 * (legal pages, registration and community-creation modes). The value is sent as text and cast
 * by the server: postgres.js would JSON-encode a string bound to a jsonb parameter a second time.
 */
import { sql } from "kysely";
import type { Executor } from "./tx.ts";

export async function readSetting<T>(ex: Executor, key: string): Promise<{ value: T; updatedAt: Date } | undefined> {
  const row = await ex.selectFrom("instance_settings").select(["value", "updated_at"]).where("key", "=", key).executeTakeFirst();
  return row ? { value: row.value as T, updatedAt: row.updated_at } : undefined;
}

export async function writeSetting(ex: Executor, key: string, value: unknown, at: Date): Promise<void> {
  const json = sql<string>`cast(cast(${JSON.stringify(value)} as text) as jsonb)`;
  await ex
    .insertInto("instance_settings")
    .values({ key, value: json, updated_at: at })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value: json, updated_at: at }))
    .execute();
}

export async function deleteSetting(ex: Executor, key: string): Promise<void> {
  await ex.deleteFrom("instance_settings").where("key", "=", key).execute();
}
