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
import type { TInteger, TObject, TOptional, TProperties } from "@sinclair/typebox";
import { ID_PATTERN } from "../shared/e2ee/index.ts";

/** Schema option naming the field: Elysia's coercion of query numbers reports errors without a path. */
export const FIELD_KEY = "x-field";

export const Uuid = t.String({ format: "uuid", maxLength: 36 });
/** An E2EE device id: 1–64 of A–Z a–z 0–9 _ - (shared/e2ee ID_PATTERN). */
export const DeviceId = t.String({ pattern: ID_PATTERN.source, maxLength: 64 });
/** A word in a path (settings section, invite code): 1–64 of A–Z a–z 0–9 _ -. */
export const Slug = t.String({ pattern: "^[A-Za-z0-9_-]{1,64}$", maxLength: 64 });
/** A free-text query value (search box, cursor, flash key) with a length bound. */
export const text = (maxLength: number) => t.String({ maxLength });

/**
 * A schema built once its field name is known. Elysia's t.Integer coerces query strings and
 * checks the number inside a closure compiled when it is built: its errors carry no path, so the
 * name must be in the options from the start (validation-error.ts reads it back).
 */
export type Named<S extends TSchema> = { readonly named: (field: string) => S };

/** A whole number in [minimum, maximum]; query strings are coerced ("20" -> 20), "1.5" and "1e20" fail. */
export const int = (minimum: number, maximum: number): Named<TInteger> => ({ named: (field) => t.Integer({ minimum, maximum, [FIELD_KEY]: field }) });
/** Offsets into a list: the bound keeps the database's bigint (and its planner) out of reach. */
export const Offset = int(0, 1_000_000);

type Built<P> = { [K in keyof P]: TOptional<P[K] extends Named<infer S> ? S : P[K] extends TSchema ? P[K] : never> };

/**
 * A query-string schema: every property optional, numbers named for their errors. Unknown
 * parameters are dropped by Elysia's normalisation, so handlers only see these.
 */
export function queryOf<P extends Record<string, TSchema | Named<TSchema>>>(properties: P): TObject<Built<P>> {
  const built: TProperties = {};
  for (const [name, schema] of Object.entries(properties)) built[name] = t.Optional("named" in schema ? schema.named(name) : schema);
  return t.Object(built) as TObject<Built<P>>;
}
