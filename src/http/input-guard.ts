/**
 * The generic input checks every route passes, before its own schema and handler (Elysia's
 * transform stage, after parsing, before validation):
 *
 *  1. Text: no NUL and no unpaired surrogate in any path param, query value, or JSON/form body
 *     string or key -> 400 INVALID_TEXT naming the field (shared/text.ts; PostgreSQL refuses NUL).
 *  2. Path params: each is checked by its NAME against PATH_PARAMS (`:id` is a UUID everywhere,
 *     `:deviceId` a device id …) -> 400 VALIDATION_ERROR naming the param. A route with a param
 *     name that is not registered makes createApp throw (assertPathParamsKnown), so a new route
 *     cannot skip this. Elysia hands a param it cannot percent-decode over as null: refused too.
 *
 * Query strings and bodies get their types from each route's TypeBox schema (input-schemas.ts).
 */
import { Elysia, t, type TSchema } from "elysia";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { InvalidInputError } from "../errors.ts";
import { findInvalidText } from "../shared/text.ts";
import { DeviceId, Slug, Uuid } from "./input-schemas.ts";

/** One meaning per path param name across the whole API and the pages. */
export const PATH_PARAMS: Record<string, { schema: TSchema; hint: string }> = {
  id: { schema: Uuid, hint: "Must be a UUID." },
  userId: { schema: Uuid, hint: "Must be a UUID." },
  channelId: { schema: Uuid, hint: "Must be a UUID." },
  messageId: { schema: Uuid, hint: "Must be a UUID." },
  roleId: { schema: Uuid, hint: "Must be a UUID." },
  inviteId: { schema: Uuid, hint: "Must be a UUID." },
  overrideId: { schema: Uuid, hint: "Must be a UUID." },
  webhookId: { schema: Uuid, hint: "Must be a UUID." },
  reportId: { schema: Uuid, hint: "Must be a UUID." },
  /** A file attached to a report (moderation/report-files.ts). */
  fileId: { schema: Uuid, hint: "Must be a UUID." },
  deviceId: { schema: DeviceId, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  /** Invite codes (12 letters and digits today; unknown ones are a 404 of their own). */
  code: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  /** A one-time link's secret (password-reset links: 43 base64url characters; unknown ones are a 404 of their own). */
  token: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  /** Report outcome (resolve | dismiss): the route's own schema narrows it. */
  outcome: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  /** Settings pages: a section name, and the segments of a settings form's action (words or UUIDs). */
  section: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  a: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  b: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  c: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  d: { schema: Slug, hint: "Must be 1–64 of A–Z a–z 0–9 _ -." },
  /** A file upload's part number (docs/files.md): the service checks it against the upload's part count. */
  part: { schema: t.String({ pattern: "^[0-9]{1,4}$", maxLength: 4 }), hint: "Must be a part number 0–9999." },
  /** A reaction: the service checks it is 1–32 characters without controls (messages/schemas.ts). */
  emoji: { schema: t.String({ minLength: 1, maxLength: 256 }), hint: "Must be an emoji or a short name." },
  /** A custom emoji's shortcode (images/emoji.ts checks 2–32 of A–Z a–z 0–9 _). */
  shortcode: { schema: t.String({ pattern: "^[A-Za-z0-9_]{1,64}$", maxLength: 64 }), hint: "Must be 1–64 of A–Z a–z 0–9 _." },
  /** A public image's versioned file name: its SHA-256 in hex and the extension (images/serve.ts). */
  file: { schema: t.String({ pattern: "^[0-9a-f]{64}\\.webp$", maxLength: 69 }), hint: "Must be <sha256>.webp." },
  /** Static files: serveStatic resolves it inside the static directory. */
  "*": { schema: t.String({ maxLength: 1024 }), hint: "Must be a file path." },
};

const checks = new Map<string, TypeCheck<TSchema>>(Object.entries(PATH_PARAMS).map(([name, { schema }]) => [name, TypeCompiler.Compile(schema)]));

/** The names of a route path's params: "/c/:id/settings/:a/:b?" -> ["id", "a", "b"]; "*" for a wildcard. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)\??|\*/g)].map((m) => m[1] ?? "*");
}

/** Throws at startup when a route uses a path param name PATH_PARAMS does not define. */
export function assertPathParamsKnown(routes: readonly { method: string; path: string }[]): void {
  const unknown = routes.flatMap((r) => pathParamNames(r.path).filter((name) => !checks.has(name)).map((name) => `${r.method} ${r.path} (:${name})`));
  if (unknown.length > 0) throw new Error(`Path params without a registered type (add them to PATH_PARAMS in src/http/input-guard.ts): ${unknown.join(", ")}`);
}

function invalidText(field: string): InvalidInputError {
  return new InvalidInputError(`The field "${field}" contains a character that is not allowed (a NUL or an unpaired surrogate).`, { [field]: "Contains a character that is not allowed." }, "INVALID_TEXT");
}

/** Runs the checks above on one request's decoded inputs; throws the 400. */
export function checkRequestInputs(input: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown }): void {
  const params = input.params ?? {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === "string" && findInvalidText(value) !== null) throw invalidText(name);
  }
  const inQuery = findInvalidText(input.query ?? {});
  if (inQuery !== null) throw invalidText(inQuery);
  const inBody = findInvalidText(input.body);
  if (inBody !== null) throw invalidText(inBody || "body");
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue; // an optional segment left out
    const check = checks.get(name);
    if (check && typeof value === "string" && check.Check(value)) continue;
    const hint = PATH_PARAMS[name]?.hint ?? "Invalid.";
    throw new InvalidInputError(`The "${name}" in the address is not valid. ${hint}`, { [name]: hint });
  }
}

/** The plugin createApp uses once, before every route. */
export function inputGuard() {
  return new Elysia({ name: "input-guard" }).onTransform({ as: "global" }, ({ params, query, body }) => {
    checkRequestInputs({ params: params as Record<string, unknown>, query: query as Record<string, unknown>, body });
  });
}
