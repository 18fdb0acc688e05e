/**
 * The one gate every secret a person types goes through: the password at sign-in, the TOTP or
 * backup code of the second step, the recovery code, and — on authenticated routes — the current
 * password (change password, delete account, new recovery code) and TOTP codes (enable or
 * disable 2FA, new backup codes). Each check:
 *
 *   1. picks the lockout pool: this browser's own counter when it presents a valid trusted-device
 *      cookie for the account, else the account's shared counter (lockout.ts);
 *   2. refuses while that pool is locked (423) and waits the progressive delay;
 *   3. on a wrong answer, in one transaction: counts the failure in the pool (locking it at the
 *      10th), adds one to the account's "failed attempts since your last sign-in", and writes an
 *      audit row (reason and pool, never the secret, never the device nonce).
 *
 * A stolen session therefore cannot guess the password or a code through settings faster than a
 * stranger could at the sign-in form, and those guesses show up at the owner's next sign-in.
 */
import { createHash } from "node:crypto";
import type { AppError } from "../../errors.ts";
import { runInTransaction, type Tx } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import { trustedDeviceNonce } from "./device-cookie.ts";
import type { AuthKernel } from "./kernel.ts";
import { guardAttempt, loginKey, recordFailure, recoverKey, resetFailures, throwLocked, type LockoutPool } from "./lockout.ts";
import type { UserRow } from "./users.ts";

/** "login": sign-in and re-authentication; "recover": recovery-code sign-in (its own counters). */
export type AttemptScope = "login" | "recover";

export type Attempt = Readonly<{ scope: AttemptScope; pool: LockoutPool; user: UserRow | undefined; meta: RequestMeta }>;

export type FailureReason = "unknown_user" | "wrong_password" | "wrong_totp" | "wrong_recovery_code";

function poolOf(kernel: AuthKernel, scope: AttemptScope, username: string, user: UserRow | undefined, meta: RequestMeta): LockoutPool {
  const nonce = user ? trustedDeviceNonce(kernel.deps.secrets.deviceCookieKey, meta.deviceCookie, user.id) : null;
  if (nonce) return { key: `device-${scope}:${nonce}`, kind: "device" };
  return { key: scope === "login" ? loginKey(username) : recoverKey(username), kind: "shared" };
}

/**
 * Starts an attempt for `username` (as typed; `user` is its account, if any): throws 423 while
 * the pool is locked, else waits the progressive delay. Every check of this attempt uses the pool.
 */
export async function openAttempt(kernel: AuthKernel, scope: AttemptScope, username: string, user: UserRow | undefined, meta: RequestMeta): Promise<Attempt> {
  const pool = poolOf(kernel, scope, user?.username ?? username, user, meta);
  await guardAttempt(kernel, pool);
  return { scope, pool, user, meta };
}

/**
 * Runs `verify`; when it answers false, counts the failure and throws `wrong()` (or 423 when this
 * failure locked the pool). `context` names the authenticated action for the audit row; without
 * it the failure is a sign-in failure ("login_failed").
 */
export async function checkCredential(kernel: AuthKernel, attempt: Attempt, reason: FailureReason, verify: () => Promise<boolean>, wrong: () => AppError, context?: string): Promise<void> {
  if (await verify()) return;
  const locked = await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, (tx) => countFailure(tx, kernel, attempt, reason, context));
  if (locked) throwLocked(attempt.pool.kind);
  throw wrong();
}

/** Re-authentication of a signed-in user on an authenticated route (same pools as sign-in). */
export async function checkSignedInCredential(kernel: AuthKernel, user: UserRow, meta: RequestMeta, context: string, reason: FailureReason, verify: () => Promise<boolean>, wrong: () => AppError): Promise<void> {
  const attempt = await openAttempt(kernel, "login", user.username, user, meta);
  await checkCredential(kernel, attempt, reason, verify, wrong, context);
}

async function countFailure(tx: Tx, kernel: AuthKernel, attempt: Attempt, reason: FailureReason, context: string | undefined): Promise<boolean> {
  const at = new Date(kernel.now());
  const { user, pool, meta } = attempt;
  const lockedNow = await recordFailure(tx, pool.key, at.getTime());
  if (user) {
    await tx
      .updateTable("users")
      .set((eb) => ({ failed_attempts_since_login: eb("failed_attempts_since_login", "+", 1), last_failed_attempt_at: at }))
      .where("id", "=", user.id)
      .execute();
  }
  const metadata = { reason, ...(context ? { context } : {}), ...describePool(pool) };
  const target = { targetType: "user", targetId: user?.id };
  await insertAuditEntry(tx, { actorId: user?.id ?? null, action: context ? "verification_failed" : "login_failed", ...target, metadata, at, meta });
  if (lockedNow) await insertAuditEntry(tx, { actorId: user?.id ?? null, action: "lockout", ...target, metadata: describePool(pool), at, meta });
  return lockedNow;
}

/** Audit metadata of a pool: the shared key as before; for a device, a short hash of its nonce. */
function describePool(pool: LockoutPool): Record<string, string> {
  if (pool.kind === "shared") return { pool: "shared", key: pool.key };
  return { pool: "device", device: createHash("sha256").update(pool.key).digest("hex").slice(0, 12) };
}

export type FailedAttemptsNotice = { count: number; lastAt: Date | null };

/**
 * After a successful sign-in, inside its transaction: clears this attempt's pool (a trusted
 * device clears only its own counter, so the owner signing in does not hand strangers a fresh
 * ten tries), and takes the account's "failed attempts since your last sign-in".
 */
export async function settleSuccessfulSignIn(tx: Tx, attempt: Attempt | undefined, userId: string): Promise<FailedAttemptsNotice> {
  if (attempt) await resetFailures(tx, attempt.pool.key);
  const row = await tx.selectFrom("users").select(["failed_attempts_since_login", "last_failed_attempt_at"]).where("id", "=", userId).forUpdate().executeTakeFirstOrThrow();
  if (row.failed_attempts_since_login > 0) {
    await tx.updateTable("users").set({ failed_attempts_since_login: 0, last_failed_attempt_at: null }).where("id", "=", userId).execute();
  }
  return { count: row.failed_attempts_since_login, lastAt: row.last_failed_attempt_at };
}
