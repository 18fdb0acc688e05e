/**
 * Elysia's VALIDATION and PARSE errors as our 400. Never echo Elysia's validation dump (it
 * includes the schema); name the field instead. Elysia's coercion of query numbers ("1e20" for an
 * integer ≤ 100) reports no path: those schemas carry their name in FIELD_KEY (input-schemas.ts).
 *
 * A schema may carry the stable code its route has always answered with (`x-code`), and a 413
 * for a string over its maximum length (`x-too-large: {code, message}`), e.g. a ciphertext over
 * the message limit (src/features/messages/body-schemas.ts).
 */
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { AppError, InvalidInputError } from "../errors.ts";
import { FIELD_KEY } from "./input-schemas.ts";

type ElysiaValidation = {
  valueError?: ValueError;
  all?: ValueError[];
  validator?: Record<string, unknown> & { schema?: Record<string, unknown> };
};

type TooLarge = { code: string; message: string };

export function validationToAppError(error: unknown): AppError {
  const e = error as ElysiaValidation;
  const first = e.valueError ?? e.all?.[0];
  const named = e.validator?.[FIELD_KEY] ?? e.validator?.schema?.[FIELD_KEY];
  const field = first?.path?.replace(/^\//, "").replace(/\//g, ".") || (typeof named === "string" ? named : undefined);
  if (!field) return new InvalidInputError("The request could not be read. Check that it is valid JSON or form data.");
  const { code, tooLarge } = first ? codesOf(first) : {};
  if (tooLarge) return new AppError(tooLarge.code, 413, tooLarge.message, { fields: { [field]: "Too large." } });
  return new InvalidInputError(`The field "${field}" is missing or invalid.`, { [field]: "Missing or invalid value." }, code);
}

/**
 * The code of the innermost schema that failed and says one. A union (`T | null`) fails as a
 * whole: look inside at the alternative that is not a plain null, so an over-long list of
 * mentions answers TOO_MANY_MENTIONS rather than the union's INVALID_MENTIONS.
 */
function codesOf(error: ValueError, depth = 0): { code?: string; tooLarge?: TooLarge } {
  const schema = (error.schema ?? {}) as Record<string, unknown>;
  const own = typeof schema["x-code"] === "string" ? (schema["x-code"] as string) : undefined;
  if (error.type === ValueErrorType.StringMaxLength && isTooLarge(schema["x-too-large"])) return { code: own, tooLarge: schema["x-too-large"] };
  if (error.type === ValueErrorType.Union && depth < 4) {
    for (const alternative of error.errors ?? []) {
      const inner = alternative.First();
      if (!inner || (inner.schema as { type?: string } | undefined)?.type === "null") continue;
      const found = codesOf(inner, depth + 1);
      return { code: found.code ?? own, tooLarge: found.tooLarge };
    }
  }
  return { code: own };
}

function isTooLarge(value: unknown): value is TooLarge {
  return typeof value === "object" && value !== null && typeof (value as TooLarge).code === "string" && typeof (value as TooLarge).message === "string";
}
