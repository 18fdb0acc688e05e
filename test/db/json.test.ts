/**
 * json/jsonb columns take JSON text on both drivers and come back parsed, so PGlite and
 * PostgreSQL store the same thing (postgres.js would otherwise double-encode the text).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ensureInstanceId } from "../../src/db/instance.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

test("an object inserted as JSON text is stored as a JSON object", async () => {
  await db.db.insertInto("instance_settings").values({ key: "probe", value: JSON.stringify({ a: 1, b: ["x"] }) }).execute();
  const row = await db.db.selectFrom("instance_settings").select(["value", sql<string>`jsonb_typeof(value)`.as("kind")]).where("key", "=", "probe").executeTakeFirstOrThrow();
  expect(row.kind).toBe("object");
  expect(row.value).toEqual({ a: 1, b: ["x"] });
});

test("the instance id is a JSON string holding a UUID, stable across calls", async () => {
  const id = await ensureInstanceId(db.db);
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(await ensureInstanceId(db.db)).toBe(id);
});
