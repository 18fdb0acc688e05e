/**
 * Recovery without email: username + recovery code + new password. Same lockout as login (its
 * own "recover:" key). On success: new password, every session revoked, a new recovery code
 * returned once. Users can regenerate the code from settings (password required: a stolen
 * session alone must not be able to mint a way to take the account over).
 */
import { InvalidInputError, UnauthenticatedError } from "../../errors.ts";
import { runInTransaction } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { Actor } from "./guard.ts";
import type { AuthKernel } from "./kernel.ts";
import { guardAttempt, recordFailure, recoverKey, resetFailures, throwLocked } from "./lockout.ts";
import { checkPasswordRules, hashPassword, verifyPassword } from "./passwords.ts";
import { newRecoveryCode } from "./register.ts";
import { revokeAllSessions } from "./sessions.ts";
import { constantTimeEqualHex, hashToken, normalizeCode } from "./tokens.ts";
import { findUserById, findUserByUsername } from "./users.ts";

const invalidRecovery = () => new UnauthenticatedError("The username or recovery code is wrong.", "INVALID_RECOVERY_CODE");

export async function recoverAccount(kernel: AuthKernel, input: { username: string; recoveryCode: string; newPassword: string }, meta: RequestMeta): Promise<{ recoveryCode: string }> {
  const username = input.username.trim();
  const problem = checkPasswordRules(input.newPassword, username);
  if (problem) throw new InvalidInputError(problem, { new_password: problem });
  const key = recoverKey(username);
  await guardAttempt(kernel, key);
  const db = kernel.deps.database.db;
  const user = username.length <= 64 ? await findUserByUsername(db, username) : undefined;
  const code = normalizeCode(input.recoveryCode, 4);
  const presented = hashToken(code ?? input.recoveryCode);
  const ok = Boolean(user?.recovery_code_hash && code && constantTimeEqualHex(presented, user.recovery_code_hash));
  if (!user || !ok) {
    const locked = await runInTransaction({ db, events: kernel.deps.events }, async (tx) => {
      const at = new Date(kernel.now());
      const lockedNow = await recordFailure(tx, key, at.getTime());
      await insertAuditEntry(tx, { actorId: user?.id ?? null, action: "login_failed", targetType: "user", targetId: user?.id, metadata: { reason: "wrong_recovery_code", key }, at, meta });
      if (lockedNow) await insertAuditEntry(tx, { actorId: user?.id ?? null, action: "lockout", targetType: "user", targetId: user?.id, metadata: { key }, at, meta });
      return lockedNow;
    });
    if (locked) throwLocked();
    throw invalidRecovery();
  }
  const passwordHash = await hashPassword(input.newPassword);
  const recovery = newRecoveryCode();
  await runInTransaction({ db, events: kernel.deps.events }, async (tx, outbox) => {
    const at = new Date(kernel.now());
    await tx.updateTable("users").set({ password_hash: passwordHash, recovery_code_hash: recovery.hash, updated_at: at }).where("id", "=", user.id).execute();
    await revokeAllSessions(tx, kernel, outbox, user.id, "account_recovered");
    await resetFailures(tx, key);
    await insertAuditEntry(tx, { actorId: user.id, action: "account_recovered", targetType: "user", targetId: user.id, at, meta });
  });
  return { recoveryCode: recovery.code };
}

export async function regenerateRecoveryCode(kernel: AuthKernel, actor: Actor, password: string | undefined, meta: RequestMeta): Promise<string> {
  const db = kernel.deps.database.db;
  const user = await findUserById(db, actor.userId);
  if (!user) throw invalidRecovery();
  if (user.password_hash && !(await verifyPassword(user.password_hash, password ?? ""))) {
    throw new InvalidInputError("The password is wrong.", { password: "The password is wrong." }, "INVALID_PASSWORD");
  }
  const recovery = newRecoveryCode();
  await runInTransaction({ db, events: kernel.deps.events }, async (tx) => {
    const at = new Date(kernel.now());
    await tx.updateTable("users").set({ recovery_code_hash: recovery.hash, updated_at: at }).where("id", "=", user.id).execute();
    await insertAuditEntry(tx, { actorId: user.id, action: "recovery_code_regenerated", targetType: "user", targetId: user.id, at, meta });
  });
  return recovery.code;
}
