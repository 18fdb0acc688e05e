/**
 * The auth feature's public face. Other features import only from here:
 *   authGuard(deps)            Elysia plugin: `{ auth: true }`, `{ optionalAuth: true }`, `{ admin: "invites" }`
 *   Actor                      what a guarded handler receives as `actor`
 *   authenticateBeforeBody(deps)  the body guard's check before a large body is read (401 if signed out)
 *   onSessionsRevoked(deps, f) f(userId, sessionIds | "all") after COMMIT of a revoke, logout-all,
 *                              suspension, password change or recovery (the WS hub closes sockets)
 *   hasAdminPower, ADMIN_POWERS
 *   findLiveSessionIds(db, ids, now)  the WS hub re-checks open sockets with it
 *   confirmCurrentPassword(kernel, actor, password, meta, context)  asks for the password again
 *                              through the lockout gate (credential-check.ts); never verify raw
 */
export { authenticateBeforeBody, authGuard, resolveActor, requireActor, requireAdminPower, requireAdminPower as requireInstanceAdmin, type Actor } from "./guard.ts";
export { authKernelOf, onSessionsRevoked, type SessionsRevokedListener } from "./kernel.ts";
export { ADMIN_POWERS, hasAdminPower, isAdminPower, type AdminPower } from "./admin-powers.ts";
export { revokeAllSessions, revokeSession, createSession } from "./sessions.ts";
// No raw verifyPassword here: every check of a password goes through the lockout gate.
export { hashPassword } from "./passwords.ts";
export { emailStateOf, rateStoreOf, resendVerification, setEmail, verifyEmail, VERIFY_PATH, type EmailState } from "./email-verification.ts";
export { ACCESS_COOKIE, REFRESH_COOKIE } from "./cookies.ts";
export { confirmCurrentPassword, deleteUserAccount, type UserDeletion, registerAccountDeletionBlocker, registerAccountDeletionStep, registerProfileChangeStep, type ProfileChangeStep, type AccountDeletionBlocker, type AccountDeletionStep } from "./account.ts";
export { openSessionForVerifiedIdentity } from "./login.ts";
export { suspendUser, unsuspendUser } from "./suspension.ts";
export { createPasswordResetLink, HISTORY_NOTICE, RESET_LINK_HOURS, RESET_LINK_PATH } from "./reset-links.ts";
export { insertAuditEntry, listAuditEntries, type AuditAction, type AuditFilter, type AuditRow, type RequestMeta } from "./audit.ts";
export { findLiveSessionIds } from "./session-liveness.ts";
export { requestMeta } from "./request-meta.ts";
// The settings frame, for settings and admin pages of other features (Notifications, admin).
export { AccountShell, shellUserOf, type ShellUser } from "./views-settings.tsx";
export { formatTime } from "./page-helpers.tsx";
export { registerCommunityInviteRedeemer, type CommunityInviteRedeemer } from "./community-invites.ts";
// For hearthctl (src/cli): the setup link and registration invites, as the admin area makes them.
export { ensureSetupToken } from "./setup.ts";
export { createInvite } from "./invites.ts";
// Fresh re-authentication (per session, 5 minutes) for the admin export and wipe of a user.
export { reauthenticate, reauthExpiresAt, requireFreshReauth, REAUTH_WINDOW_MS } from "./reauth.ts";
