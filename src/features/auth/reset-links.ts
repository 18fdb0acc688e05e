/**
 * One-time password-reset links an instance admin hands over (issue 15 §1, docs/admin.md "Reset
 * password"): for users who lost both password and recovery code. The secret (256 bits) is shown
 * once to the admin and stored as its SHA-256; a new link replaces the user's unused ones; it
 * expires after RESET_LINK_HOURS and is spent by one conditional UPDATE (single use, even under
 * concurrent redemptions). Redeeming sets the new password and ends every session of the user,
 * in one transaction, like recovery with the recovery code (recovery.ts). Encrypted history is
 * not touched: it stays readable only with the user's E2EE recovery key (docs/crypto.md).
 */
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { AuthKernel } from "./kernel.ts";
import { loginKey, resetFailures } from "./lockout.ts";
import { checkPasswordRules, hashPassword } from "./passwords.ts";
import { revokeAllSessions } from "./sessions.ts";
import { generateOpaqueToken, hashToken } from "./tokens.ts";

export const RESET_LINK_HOURS = 24;
/** The path of a link; log lines redact what follows it (src/log.ts). */
export const RESET_LINK_PATH = "/reset-password/";

/** What stays true after a reset, said where the user acts and on the admin's page. */
export const HISTORY_NOTICE = "Resetting the password does not unlock encrypted messages: message history stays readable only on a device that still has the keys, or with the recovery key (the one Hearth showed when encryption was set up). Nobody else, administrators included, can recover it.";

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const expiredOrUsed = () => new NotFoundError("This password-reset link has expired or was already used. Ask an administrator for a new one.", "RESET_LINK_INVALID");

/** Makes a link for `userId` (the caller checked the admin's power and the target rules). */
export async function createPasswordResetLink(kernel: AuthKernel, actorId: string, userId: string, meta: RequestMeta): Promise<{ token: string; expiresAt: Date }> {
  const token = generateOpaqueToken(32);
  const now = new Date(kernel.now());
  const expiresAt = new Date(now.getTime() + RESET_LINK_HOURS * 3600_000);
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    // One live link per user: handing over a new one voids the last.
    await tx.deleteFrom("password_reset_links").where("user_id", "=", userId).where("used_at", "is", null).execute();
    await tx.insertInto("password_reset_links").values({ id: Bun.randomUUIDv7(), user_id: userId, token_hash: hashToken(token), created_by: actorId, created_at: now, expires_at: expiresAt, used_at: null }).execute();
    await insertAuditEntry(tx, { actorId, action: "password_reset_link_created", targetType: "user", targetId: userId, metadata: { expires_at: expiresAt.toISOString() }, at: now, meta });
  });
  return { token, expiresAt };
}

/** Whose link this is, while it can still be used (read-only: redeemPasswordResetLink decides). */
export async function findResetLink(db: Executor, token: string, nowMs: number): Promise<{ username: string; expiresAt: Date }> {
  if (!TOKEN_SHAPE.test(token)) throw expiredOrUsed();
  const row = await db
    .selectFrom("password_reset_links as l")
    .innerJoin("users as u", "u.id", "l.user_id")
    .select(["u.username", "l.expires_at"])
    .where("l.token_hash", "=", hashToken(token))
    .where("l.used_at", "is", null)
    .where("l.expires_at", ">", new Date(nowMs))
    .executeTakeFirst();
  if (!row) throw expiredOrUsed();
  return { username: row.username, expiresAt: row.expires_at };
}

/** Sets the new password and ends every session of the user; the link is spent. */
export async function redeemPasswordResetLink(kernel: AuthKernel, token: string, newPassword: string, meta: RequestMeta): Promise<{ username: string }> {
  const db = kernel.deps.database.db;
  const { username } = await findResetLink(db, token, kernel.now());
  const problem = checkPasswordRules(newPassword, username);
  if (problem) throw new InvalidInputError(problem, { new_password: problem });
  const passwordHash = await hashPassword(newPassword);
  await runInTransaction({ db, events: kernel.deps.events }, async (tx, outbox) => {
    const at = new Date(kernel.now());
    // The one conditional UPDATE that makes the link single-use.
    const spent = await tx
      .updateTable("password_reset_links")
      .set({ used_at: at })
      .where("token_hash", "=", hashToken(token))
      .where("used_at", "is", null)
      .where("expires_at", ">", at)
      .returning(["id", "user_id", "created_by"])
      .executeTakeFirst();
    if (!spent) throw expiredOrUsed();
    await tx.updateTable("users").set({ password_hash: passwordHash, updated_at: at }).where("id", "=", spent.user_id).execute();
    const revoked = await revokeAllSessions(tx, kernel, outbox, spent.user_id, "password_reset_by_link");
    // A lockout from the failed guesses that led here ends with the new password.
    await resetFailures(tx, loginKey(username));
    await insertAuditEntry(tx, { actorId: spent.user_id, action: "password_reset_by_link", targetType: "user", targetId: spent.user_id, metadata: { link_id: spent.id, created_by: spent.created_by, sessions_revoked: revoked }, at, meta });
  });
  return { username };
}
