/**
 * Password login with lockout, progressive delay, suspension and the TOTP second step.
 * Unknown usernames verify against a dummy hash and answer exactly like a wrong password.
 * A successful login creates a new session and leaves the user's other sessions alone.
 *
 * API: one request with {username, password, totp_code?}; without a code for a 2FA account the
 * answer is 401 TOTP_REQUIRED. Pages: the password step returns a pending-login token (signed,
 * 5 minutes, bound to the password hash) and the second form sends it with the code.
 */
import { ForbiddenError, UnauthenticatedError } from "../../errors.ts";
import { runInTransaction } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import { checkCredential, openAttempt, settleSuccessfulSignIn, type Attempt, type FailedAttemptsNotice } from "./credential-check.ts";
import type { AuthKernel } from "./kernel.ts";
import { burnPasswordVerification, verifyPassword } from "./passwords.ts";
import { createSession, type IssuedTokens } from "./sessions.ts";
import { hashToken } from "./tokens.ts";
import { consumeBackupCode, consumeTotpCode } from "./totp.ts";
import { findUserById, findUserByUsername, type UserRow } from "./users.ts";

const PENDING_LOGIN_TTL_SECS = 5 * 60;

export class TotpRequiredError extends UnauthenticatedError {
  constructor(readonly pendingToken: string) {
    super("Enter the 6-digit code from your authenticator app, or a backup code.", "TOTP_REQUIRED");
  }
}

const invalidCredentials = () => new UnauthenticatedError("The username or password is wrong.", "INVALID_CREDENTIALS");
const invalidTotp = () => new UnauthenticatedError("That code is not valid. Use a fresh code from your app, or a backup code.", "TOTP_INVALID");

/** `failedAttempts`: failed checks against the account since its previous sign-in (shown once). */
export type LoggedIn = { tokens: IssuedTokens; user: UserRow; failedAttempts: FailedAttemptsNotice };

export async function loginWithPassword(kernel: AuthKernel, input: { username: string; password: string; totpCode?: string }, meta: RequestMeta): Promise<LoggedIn> {
  if (kernel.deps.config.oidc?.disablePasswordLogin) {
    throw new ForbiddenError("Password sign-in is turned off on this server; use single sign-on.", "PASSWORD_LOGIN_DISABLED");
  }
  const username = input.username.trim();
  const db = kernel.deps.database.db;
  const user = username.length <= 64 ? await findUserByUsername(db, username) : undefined;
  const attempt = await openAttempt(kernel, "login", username, user, meta);
  const passwordHash = user?.password_hash;
  await checkCredential(
    kernel,
    attempt,
    passwordHash ? "wrong_password" : "unknown_user",
    async () => {
      if (passwordHash) return verifyPassword(passwordHash, input.password);
      // Unknown user (or an SSO-only account): same cost, same answer as a wrong password.
      await burnPasswordVerification(input.password);
      return false;
    },
    invalidCredentials,
  );
  const known = user!;
  if (known.suspended_at) throw new ForbiddenError("This account is suspended.", "ACCOUNT_SUSPENDED");
  if (known.totp_enabled) {
    if (!input.totpCode?.trim()) throw new TotpRequiredError(await signPendingLogin(kernel, known));
    return finishWithSecondFactor(kernel, attempt, known, input.totpCode);
  }
  return openSession(kernel, known, meta, "password", attempt);
}

/** Second step of a page login: the pending token stands in for the password. */
export async function completePendingLogin(kernel: AuthKernel, pendingToken: string, code: string, meta: RequestMeta): Promise<LoggedIn> {
  const verified = await kernel.signer.verifyPurposeToken(pendingToken, "pending-login", kernel.now());
  if (!verified) throw new UnauthenticatedError("The sign-in took too long. Please enter your password again.", "PENDING_LOGIN_EXPIRED");
  const user = await findUserById(kernel.deps.database.db, verified.subject);
  // Bound to the password hash: changing the password (or recovery) voids pending logins.
  if (!user?.password_hash || verified.claims.pwh !== hashToken(user.password_hash).slice(0, 16)) {
    throw new UnauthenticatedError("The sign-in took too long. Please enter your password again.", "PENDING_LOGIN_EXPIRED");
  }
  const attempt = await openAttempt(kernel, "login", user.username, user, meta);
  if (user.suspended_at) throw new ForbiddenError("This account is suspended.", "ACCOUNT_SUSPENDED");
  return finishWithSecondFactor(kernel, attempt, user, code);
}

function signPendingLogin(kernel: AuthKernel, user: UserRow): Promise<string> {
  return kernel.signer.signPurposeToken(user.id, "pending-login", PENDING_LOGIN_TTL_SECS, kernel.now(), { pwh: hashToken(user.password_hash!).slice(0, 16) });
}

async function finishWithSecondFactor(kernel: AuthKernel, attempt: Attempt, user: UserRow, code: string): Promise<LoggedIn> {
  const db = kernel.deps.database.db;
  const trimmed = code.trim();
  let method: "totp" | "backup_code" = "totp";
  await checkCredential(
    kernel,
    attempt,
    "wrong_totp",
    async () => {
      if (/^\d{6}$/.test(trimmed)) return consumeTotpCode(db, kernel, user, trimmed);
      method = "backup_code";
      return consumeBackupCode(db, user.id, trimmed);
    },
    invalidTotp,
  );
  return openSession(kernel, user, attempt.meta, method, attempt);
}

/** `attempt` is absent for sign-ins that checked no secret here (SSO): no counter is cleared. */
async function openSession(kernel: AuthKernel, user: UserRow, meta: RequestMeta, method: string, attempt?: Attempt): Promise<LoggedIn> {
  return runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    const at = new Date(kernel.now());
    const failedAttempts = await settleSuccessfulSignIn(tx, attempt, user.id);
    const tokens = await createSession(tx, kernel, user.id, meta);
    if (method === "backup_code") await insertAuditEntry(tx, { actorId: user.id, action: "backup_code_used", targetType: "user", targetId: user.id, at, meta });
    const metadata = { method, trusted_device: attempt?.pool.kind === "device", failed_attempts_since_last_login: failedAttempts.count };
    await insertAuditEntry(tx, { actorId: user.id, action: "login", targetType: "session", targetId: tokens.sessionId, metadata, at, meta });
    return { tokens, user, failedAttempts };
  });
}

/**
 * Seam for SSO (issue 3 §8, not built yet): once an OIDC callback has verified its ID token,
 * it finds or provisions the local account and calls this to open a session — same suspension
 * rule, same audit entry, no password and no TOTP step (the identity provider owns those).
 */
export async function openSessionForVerifiedIdentity(kernel: AuthKernel, user: UserRow, meta: RequestMeta): Promise<LoggedIn> {
  if (user.suspended_at) throw new ForbiddenError("This account is suspended.", "ACCOUNT_SUSPENDED");
  return openSession(kernel, user, meta, "oidc");
}
