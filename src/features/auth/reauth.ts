/**
 * A fresh re-authentication for the most sensitive admin actions (issue 15 §3, docs/admin.md
 * "Data rights"): the admin enters their password — and a TOTP code when two-factor is on —
 * again; the time is kept on THIS session (sessions.reauthenticated_at, migration 0027), so the
 * grant is per admin session: another browser of the same admin, or a stolen refresh cookie
 * replayed elsewhere after the grant's five minutes, holds none. Every check goes through the
 * lockout gate (credential-check.ts) like any other password or code check.
 */
import { ConflictError, ForbiddenError, InvalidInputError } from "../../errors.ts";
import { runInTransaction } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import { checkSignedInCredential } from "./credential-check.ts";
import type { Actor } from "./guard.ts";
import type { AuthKernel } from "./kernel.ts";
import { verifyPassword } from "./passwords.ts";
import { consumeTotpCode } from "./totp.ts";
import { requireOwnUser } from "./account.ts";

/** How long a re-authentication counts as fresh. */
export const REAUTH_WINDOW_MS = 5 * 60_000;

/**
 * Checks the password (and the TOTP code when two-factor is on) and records the time on the
 * actor's session. Throws INVALID_PASSWORD / INVALID_TOTP (400), ACCOUNT_LOCKED (423);
 * REAUTH_UNAVAILABLE (409) for an account without a password (SSO only): there is nothing to
 * re-enter, so these actions stay out of its reach.
 */
export async function reauthenticate(kernel: AuthKernel, actor: Actor, input: { password: string; totpCode?: string }, meta: RequestMeta): Promise<Date> {
  if (actor.via === "token") throw new ForbiddenError("An access token cannot re-authenticate.", "REAUTH_REQUIRED");
  const user = await requireOwnUser(kernel, actor);
  const hash = user.password_hash;
  if (!hash) throw new ConflictError("This account signs in only through SSO and has no password to confirm.", "REAUTH_UNAVAILABLE");
  await checkSignedInCredential(kernel, user, meta, "reauthenticate", "wrong_password", () => verifyPassword(hash, input.password), () => new InvalidInputError("The password is wrong.", { password: "The password is wrong." }, "INVALID_PASSWORD"));
  if (user.totp_enabled) {
    const code = (input.totpCode ?? "").trim();
    if (!code) throw new InvalidInputError("Enter the code from your authenticator app.", { totp_code: "Enter the 6-digit code." }, "TOTP_REQUIRED");
    await checkSignedInCredential(kernel, user, meta, "reauthenticate", "wrong_totp", () => consumeTotpCode(kernel.deps.database.db, kernel, user, code), () => new InvalidInputError("That code is wrong or was already used.", { totp_code: "That code is wrong or was already used." }, "INVALID_TOTP"));
  }
  const at = new Date(kernel.now());
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    await tx.updateTable("sessions").set({ reauthenticated_at: at }).where("id", "=", actor.sessionId).where("user_id", "=", actor.userId).execute();
    await insertAuditEntry(tx, { actorId: actor.userId, action: "reauthenticated", targetType: "session", targetId: actor.sessionId, metadata: { totp: user.totp_enabled }, at, meta });
  });
  return at;
}

/** When this session's fresh re-authentication ends, or null when it has none. */
export async function reauthExpiresAt(kernel: AuthKernel, actor: Actor): Promise<Date | null> {
  if (actor.via === "token") return null;
  const row = await kernel.deps.database.db.selectFrom("sessions").select("reauthenticated_at").where("id", "=", actor.sessionId).where("user_id", "=", actor.userId).executeTakeFirst();
  const at = row?.reauthenticated_at;
  if (!at) return null;
  const until = new Date(new Date(at).getTime() + REAUTH_WINDOW_MS);
  return until.getTime() > kernel.now() ? until : null;
}

/** Throws 403 REAUTH_REQUIRED unless this session re-authenticated within the last five minutes. */
export async function requireFreshReauth(kernel: AuthKernel, actor: Actor): Promise<void> {
  if (!(await reauthExpiresAt(kernel, actor))) throw new ForbiddenError("Confirm your password (and two-factor code) again first: this action needs a re-authentication within the last 5 minutes.", "REAUTH_REQUIRED");
}
