/** Small helpers every service of this slice uses: the db, the clock, and the one transaction helper. */
import type { AppDeps } from "../../deps.ts";
import { runInTransaction, type Outbox, type Tx } from "../../db/tx.ts";
import type { Db } from "../../db/open.ts";
import { InvalidInputError } from "../../errors.ts";

export type ActorLike = { userId: string; isOwner: boolean; isAdmin: boolean };

export function dbOf(deps: AppDeps): Db {
  return deps.database.db;
}

export function nowOf(deps: AppDeps): Date {
  return new Date((deps.now ?? Date.now)());
}

export function mutate<T>(deps: AppDeps, fn: (tx: Tx, outbox: Outbox) => Promise<T>): Promise<T> {
  return runInTransaction({ db: deps.database.db, events: deps.events }, fn);
}

/** Trims and checks a required text field; the message names the field and its limits. */
export function requireText(field: string, label: string, value: string | undefined | null, min: number, max: number): string {
  const text = (value ?? "").trim();
  if (text.length < min || text.length > max) {
    const message = min > 0 ? `${label} must be ${min}–${max} characters.` : `${label} must be at most ${max} characters.`;
    throw new InvalidInputError(message, { [field]: message }, "INVALID_" + field.toUpperCase());
  }
  return text;
}

export function optionalText(field: string, label: string, value: string | undefined | null, max: number): string | null {
  if (value === undefined || value === null) return null;
  const text = requireText(field, label, value, 0, max);
  return text === "" ? null : text;
}

export function requireIntRange(field: string, label: string, value: number, min: number, max: number, unit = ""): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const message = `${label} must be a whole number from ${min} to ${max}${unit}.`;
    throw new InvalidInputError(message, { [field]: message }, "INVALID_" + field.toUpperCase());
  }
  return value;
}
