/**
 * Recovery without email: username + recovery code + new password. Same lockout as login, in
 * its own pools ("recover:<username>", or this browser's own when it is a trusted device of the
 * account; credential-check.ts). On success: new password, every session revoked, a new recovery code
 * returned once. Users can regenerate the code from settings (password required: a stolen
 * session alone must not be able to mint a way to take the account over).
 */
import { InvalidInputError, UnauthenticatedError } from "../../errors.ts";
import { runInTransaction } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { Actor } from "./guard.ts";
import type { AuthKernel } from "./kernel.ts";
import { checkCredential, checkSignedInCredential, openAttempt } from "./credential-check.ts";
import { resetFailures } from "./lockout.ts";
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
  const db = kernel.deps.database.db;
  const user = username.length <= 64 ? await findUserByUsername(db, username) : undefined;
  const attempt = await openAttempt(kernel, "recover", username, user, meta);
  const code = normalizeCode(input.recoveryCode, 4);
  const presented = hashToken(code ?? input.recoveryCode);
  await checkCredential(kernel, attempt, user ? "wrong_recovery_code" : "unknown_user", async () => Boolean(user?.recovery_code_hash && code && constantTimeEqualHex(presented, user.recovery_code_hash)), invalidRecovery);
  const known = user!;
  const passwordHash = await hashPassword(input.newPassword);
  const recovery = newRecoveryCode();
  await runInTransaction({ db, events: kernel.deps.events }, async (tx, outbox) => {
    const at = new Date(kernel.now());
    await tx.updateTable("users").set({ password_hash: passwordHash, recovery_code_hash: recovery.hash, updated_at: at }).where("id", "=", known.id).execute();
    await revokeAllSessions(tx, kernel, outbox, known.id, "account_recovered");
    await resetFailures(tx, attempt.pool.key);
    await insertAuditEntry(tx, { actorId: known.id, action: "account_recovered", targetType: "user", targetId: known.id, at, meta });
  });
  return { recoveryCode: recovery.code };
}

export async function regenerateRecoveryCode(kernel: AuthKernel, actor: Actor, password: string | undefined, meta: RequestMeta): Promise<string> {
  const db = kernel.deps.database.db;
  const user = await findUserById(db, actor.userId);
  if (!user) throw invalidRecovery();
  const passwordHash = user.password_hash;
  if (passwordHash) {
    const wrong = () => new InvalidInputError("The password is wrong.", { password: "The password is wrong." }, "INVALID_PASSWORD");
    await checkSignedInCredential(kernel, user, meta, "regenerate_recovery_code", "wrong_password", () => verifyPassword(passwordHash, password ?? ""), wrong);
  }
  const recovery = newRecoveryCode();
  await runInTransaction({ db, events: kernel.deps.events }, async (tx) => {
    const at = new Date(kernel.now());
    await tx.updateTable("users").set({ recovery_code_hash: recovery.hash, updated_at: at }).where("id", "=", user.id).execute();
    await insertAuditEntry(tx, { actorId: user.id, action: "recovery_code_regenerated", targetType: "user", targetId: user.id, at, meta });
  });
  return recovery.code;
}
