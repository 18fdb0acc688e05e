/**
 * Brute-force lockout (seeds/000, /004), kept in login_attempts so restarts and other instances
 * see it. 10 consecutive failures for one key within 15 minutes lock that key for 15 minutes.
 * Unlike the reference, failures older than the window decay, and the lock expiring resets the
 * count (one more failure does not re-lock). From the 3rd failure on, each attempt waits a
 * growing, bounded delay first (progressive lockout).
 *
 * Counters ("pools"): "login:<username>" and "recover:<username>" (lower-cased) are the shared
 * pools of every client that is not a trusted device of that user, counted whether or not the
 * username exists, so lockout behaviour does not reveal which accounts exist. A browser holding a
 * valid trusted-device cookie for the user (device-cookie.ts) counts in its own pools,
 * "device-login:<nonce>" and "device-recover:<nonce>": it is locked only by its own failures and
 * is not locked when the shared pool is. Which pool a request uses is decided in
 * credential-check.ts, the one place every password, code and recovery-code check goes through.
 */
import { sql } from "kysely";
import { LockedError } from "../../errors.ts";
import type { Executor } from "../../db/tx.ts";
import type { AuthKernel } from "./kernel.ts";

export const LOCKOUT_THRESHOLD = 10;
export const LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_DURATION_MS = 15 * 60 * 1000;
const DELAY_FROM_FAILURE = 3;
const DELAY_STEP_MS = 100;
const DELAY_MAX_MS = 1_000;

export type PoolKind = "shared" | "device";
export type LockoutPool = { key: string; kind: PoolKind };

export function loginKey(username: string): string {
  return `login:${username.toLowerCase().slice(0, 128)}`;
}
export function recoverKey(username: string): string {
  return `recover:${username.toLowerCase().slice(0, 128)}`;
}

/** 0 for the first failures, then 100 ms, 200 ms, … capped at 1 s. */
export function progressiveDelayMs(failures: number): number {
  if (failures < DELAY_FROM_FAILURE) return 0;
  return Math.min(DELAY_MAX_MS, (failures - DELAY_FROM_FAILURE + 1) * DELAY_STEP_MS);
}

function lockedError(retryAfterMs: number, kind: PoolKind): LockedError {
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  const span = `${minutes} more minute${minutes === 1 ? "" : "s"}`;
  return new LockedError(
    retryAfterMs / 1000,
    kind === "device" ? `Too many failed attempts from this browser. Signing in from it is paused for ${span}.` : `Too many failed attempts. This account is locked for ${span}.`,
  );
}

/** Throws while the pool is locked; otherwise waits the progressive delay for recent failures. */
export async function guardAttempt(kernel: AuthKernel, pool: LockoutPool): Promise<void> {
  const now = kernel.now();
  const row = await kernel.deps.database.db.selectFrom("login_attempts").selectAll().where("key", "=", pool.key).executeTakeFirst();
  if (!row) return;
  if (row.locked_until && row.locked_until.getTime() > now) throw lockedError(row.locked_until.getTime() - now, pool.kind);
  const recent = row.last_failure_at && now - row.last_failure_at.getTime() < LOCKOUT_WINDOW_MS ? row.failures : 0;
  const delay = progressiveDelayMs(recent);
  if (delay > 0) await kernel.sleep(delay);
}

/**
 * Counts one failure atomically (concurrent failures are all counted). Returns true when this
 * failure locked the key; the caller then reports the lock instead of "wrong password".
 */
export async function recordFailure(db: Executor, key: string, nowMs: number): Promise<boolean> {
  const now = new Date(nowMs);
  const windowStart = new Date(nowMs - LOCKOUT_WINDOW_MS);
  const row = await db
    .insertInto("login_attempts")
    .values({ key, failures: 1, last_failure_at: now, locked_until: null })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        failures: sql`case when login_attempts.last_failure_at is null or login_attempts.last_failure_at < ${windowStart} then 1 else login_attempts.failures + 1 end`,
        last_failure_at: now,
      }),
    )
    .returning("failures")
    .executeTakeFirstOrThrow();
  if (row.failures < LOCKOUT_THRESHOLD) return false;
  await db
    .updateTable("login_attempts")
    .set({ failures: 0, locked_until: new Date(nowMs + LOCKOUT_DURATION_MS) })
    .where("key", "=", key)
    .execute();
  return true;
}

export function throwLocked(kind: PoolKind): never {
  throw lockedError(LOCKOUT_DURATION_MS, kind);
}

export async function resetFailures(db: Executor, key: string): Promise<void> {
  await db.deleteFrom("login_attempts").where("key", "=", key).execute();
}
