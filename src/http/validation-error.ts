/**
 * Elysia's VALIDATION and PARSE errors as our 400. Never echo Elysia's validation dump (it
 * includes the schema); name the field instead. Elysia's coercion of query numbers ("1e20" for an
 * integer ≤ 100) reports no path: those schemas carry their name in FIELD_KEY (input-schemas.ts).
 */
import { InvalidInputError, type AppError } from "../errors.ts";
import { FIELD_KEY } from "./input-schemas.ts";

type ElysiaValidation = {
  valueError?: { path?: string };
  all?: { path?: string }[];
  validator?: Record<string, unknown> & { schema?: Record<string, unknown> };
};

export function validationToAppError(error: unknown): AppError {
  const e = error as ElysiaValidation;
  const first = e.valueError ?? e.all?.[0];
  const named = e.validator?.[FIELD_KEY] ?? e.validator?.schema?.[FIELD_KEY];
  const field = first?.path?.replace(/^\//, "").replace(/\//g, ".") || (typeof named === "string" ? named : undefined);
  if (!field) return new InvalidInputError("The request could not be read. Check that it is valid JSON or form data.");
  return new InvalidInputError(`The field "${field}" is missing or invalid.`, { [field]: "Missing or invalid value." });
}
