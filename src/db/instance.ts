/**
 * A stable identity for this installation, created once at first boot (several instances of one
 * deployment share it because they share the database). Logged at startup so operators can tell
 * which database a process is attached to.
 */
import { sql } from "kysely";
import type { Executor } from "./tx.ts";

export async function ensureInstanceId(db: Executor): Promise<string> {
  const candidate = Bun.randomUUIDv7();
  await db
    .insertInto("instance_settings")
    .values({ key: "instance_id", value: JSON.stringify(candidate) })
    .onConflict((oc) => oc.column("key").doNothing())
    .execute();
  const row = await db.selectFrom("instance_settings").select(sql<string>`value #>> '{}'`.as("id")).where("key", "=", "instance_id").executeTakeFirstOrThrow();
  return row.id;
}
