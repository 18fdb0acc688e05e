/** Small helpers shared by the auth pages: form bodies, safe redirects, form re-rendering. */
import type { Child } from "hono/jsx";
import { AppError } from "../../errors.ts";
import { fragment, isHtmx, page } from "../../http/render.ts";
import type { FormState } from "./views-auth.tsx";

/** A string field of a parsed form body ("" when absent or not a string). */
export function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === "string" ? value : "";
}


/** htmx gets the form fragment; a plain POST gets the whole page around it. */
export function respondWithForm(request: Request, form: Child, wholePage: (form: Child) => Child, status: number): Response {
  return isHtmx(request) ? fragment(String(form ?? ""), { status }) : page(String(wholePage(form) ?? ""), { status });
}

/** Expected failures (4xx AppErrors) become form state; anything else propagates to the error renderer. */
export function toFormState(error: unknown, values: Record<string, string | undefined>): FormState {
  if (error instanceof AppError && error.status < 500) return { values, fields: error.details?.fields, message: error.publicMessage };
  throw error;
}

export function formatTime(date: Date | null): string {
  if (!date) return "never";
  return date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}
