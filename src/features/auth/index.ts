/**
 * The auth feature's public face. Other features import only from here:
 *   authGuard(deps)            Elysia plugin: `{ auth: true }`, `{ optionalAuth: true }`, `{ admin: "invites" }`
 *   Actor                      what a guarded handler receives as `actor`
 *   onSessionsRevoked(deps, f) f(userId, sessionIds | "all") after COMMIT of a revoke, logout-all,
 *                              suspension, password change or recovery (the WS hub closes sockets)
 *   hasAdminPower, ADMIN_POWERS
 *   findLiveSessionIds(db, ids, now)  the WS hub re-checks open sockets with it
 */
export { authGuard, resolveActor, requireActor, requireAdminPower, requireAdminPower as requireInstanceAdmin, type Actor } from "./guard.ts";
export { authKernelOf, onSessionsRevoked, type SessionsRevokedListener } from "./kernel.ts";
export { ADMIN_POWERS, hasAdminPower, isAdminPower, type AdminPower } from "./admin-powers.ts";
export { revokeAllSessions, revokeSession, createSession } from "./sessions.ts";
export { hashPassword, verifyPassword } from "./passwords.ts";
export { ACCESS_COOKIE, REFRESH_COOKIE } from "./cookies.ts";
export { registerAccountDeletionBlocker, registerAccountDeletionStep, type AccountDeletionBlocker, type AccountDeletionStep } from "./account.ts";
export { openSessionForVerifiedIdentity } from "./login.ts";
export { suspendUser, unsuspendUser } from "./suspension.ts";
export { insertAuditEntry, type AuditAction, type RequestMeta } from "./audit.ts";
export { findLiveSessionIds } from "./session-liveness.ts";
