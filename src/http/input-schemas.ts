/**
 * TypeBox pieces for ids and numbers at the HTTP edge, shared by every feature's routes, so a
 * malformed id or an out-of-range number (1e20, -1, NaN, Infinity, 1.5, a 10 kB string) is a
 * 400 VALIDATION_ERROR naming the field, never a database error.
 *
 *   .get("/api/x/:id/items", …, { query: queryOf({ limit: int(1, 100), before: Uuid }) })
 *
 * Path params need nothing per route: input-guard.ts checks each by its name (PATH_PARAMS).
 */
import { t, type TSchema } from "elysia";
import type { TObject, TOptional, TProperties } from "@sinclair/typebox";
import { ID_PATTERN } from "../shared/e2ee/index.ts";

/** Schema option naming the field: Elysia's coercion of query numbers reports errors without a path. */
export const FIELD_KEY = "x-field";

export const Uuid = t.String({ format: "uuid", maxLength: 36 });
/** An E2EE device id: 1–64 of A–Z a–z 0–9 _ - (shared/e2ee ID_PATTERN). */
export const DeviceId = t.String({ pattern: ID_PATTERN.source, maxLength: 64 });
/** A word in a path (settings section, invite code): 1–64 of A–Z a–z 0–9 _ -. */
export const Slug = t.String({ pattern: "^[A-Za-z0-9_-]{1,64}$", maxLength: 64 });
/** A whole number in [minimum, maximum]; query strings are coerced ("20" -> 20), "1.5" and "1e20" fail. */
export const int = (minimum: number, maximum: number) => t.Integer({ minimum, maximum });
/** Offsets into a list: the bound keeps the database's bigint (and its planner) out of reach. */
export const Offset = int(0, 1_000_000);
/** A free-text query value (search box, cursor, flash key) with a length bound. */
export const text = (maxLength: number) => t.String({ maxLength });

type Optional<P extends TProperties> = { [K in keyof P]: TOptional<P[K]> };

/**
 * A query-string schema: every property optional and named (FIELD_KEY) so errors name it.
 * Unknown parameters are dropped by Elysia's normalisation, so handlers only see these.
 */
export function queryOf<P extends TProperties>(properties: P): TObject<Optional<P>> {
  const named: TProperties = {};
  for (const [name, schema] of Object.entries(properties)) named[name] = t.Optional(withField(schema, name));
  return t.Object(named) as TObject<Optional<P>>;
}

export function withField<S extends TSchema>(schema: S, field: string): S {
  return { ...schema, [FIELD_KEY]: field };
}
