/**
 * The JSON API of accounts and authentication (snake_case; errors via the one renderer).
 * Each handler parses, calls one service function, and shapes the answer.
 */
import { registrationModeOf } from "../../db/runtime-settings.ts";
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { NotFoundError, UnauthenticatedError } from "../../errors.ts";
import { json } from "../../http/render.ts";
import { hasAdminPower } from "./admin-powers.ts";
import { changePassword, deleteAccount, logout, logoutAll, requireOwnUser, revokeOwnSession, updateProfile } from "./account.ts";
import { clearedSessionCookies, parseCookies, REFRESH_COOKIE, sessionCookies, withCookies } from "./cookies.ts";
import { assertSameOrigin } from "./csrf.ts";
import { trustedDeviceCookieFor } from "./device-cookie.ts";
import { authGuard, COOKIE_REFRESH_GRACE_MS } from "./guard.ts";
import { createInvite, deleteInvite, listInvites, type InviteView } from "./invites.ts";
import { authKernelOf } from "./kernel.ts";
import { loginWithPassword } from "./login.ts";
import { recoverAccount, regenerateRecoveryCode } from "./recovery.ts";
import { registerUser } from "./register.ts";
import { requestMeta } from "./request-meta.ts";
import * as S from "./schemas.ts";
import { listActiveSessions, rotateRefreshToken, type RotateResult } from "./sessions.ts";
import { isSetupPending } from "./setup.ts";
import { confirmTotpSetup, disableTotp, regenerateBackupCodes, startTotpSetup } from "./totp.ts";
import { toOwnUser } from "./users.ts";
import { accessTokenApiRoutes } from "./routes-tokens.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function inviteJson(i: InviteView) {
  return { id: i.id, code: i.code, max_uses: i.maxUses, uses: i.uses, expires_at: iso(i.expiresAt), created_at: iso(i.createdAt), created_by: i.createdBy, usable: i.usable };
}

/** The answer to a refresh that did not rotate (API clients get no grace: "grace" is invalid too). */
function refreshRefused(kind: RotateResult["kind"]): UnauthenticatedError {
  if (kind === "key_rotated") return new UnauthenticatedError("The server's signing keys were replaced, so every session has ended. Please sign in again.", "SESSION_KEY_ROTATED");
  if (kind === "reused") return new UnauthenticatedError("This refresh token was already used, so the session has been ended for safety. Please sign in again.", "REFRESH_TOKEN_REUSED");
  return new UnauthenticatedError("The refresh token is invalid or expired. Please sign in again.", "REFRESH_TOKEN_INVALID");
}

export function authApiRoutes(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  const db = deps.database.db;
  return new Elysia({ name: "auth-api" })
    .use(authGuard(deps))
    .use(accessTokenApiRoutes(deps))
    .get("/api/auth/config", async () => ({
      registration_mode: await registrationModeOf(deps),
      setup_required: await isSetupPending(db),
      oidc_enabled: Boolean(deps.config.oidc),
      password_login_enabled: !deps.config.oidc?.disablePasswordLogin,
    }))
    .post(
      "/api/auth/register",
      async ({ body, request }) => {
        const r = await registerUser(
          kernel,
          { username: body.username, email: body.email, password: body.password, displayName: body.display_name, inviteCode: body.invite_code, setupToken: body.setup_token },
          requestMeta(request),
        );
        const answer = { access_token: r.tokens.accessToken, refresh_token: r.tokens.refreshToken, user: toOwnUser(r.user), recovery_code: r.recoveryCode };
        return withCookies(json(answer, { status: 201 }), [trustedDeviceCookieFor(kernel, request, r.user.id)]);
      },
      { body: S.RegisterBody },
    )
    .post(
      "/api/auth/login",
      async ({ body, request }) => {
        const r = await loginWithPassword(kernel, { username: body.username, password: body.password, totpCode: body.totp_code }, requestMeta(request));
        const answer = {
          access_token: r.tokens.accessToken,
          refresh_token: r.tokens.refreshToken,
          user: toOwnUser(r.user),
          // Failed password, code or recovery-code checks against the account since its last sign-in.
          failed_attempts_since_last_login: r.failedAttempts.count,
          last_failed_attempt_at: iso(r.failedAttempts.lastAt),
        };
        // A client that keeps cookies becomes a trusted device of this account (device-cookie.ts).
        return withCookies(json(answer), [trustedDeviceCookieFor(kernel, request, r.user.id)]);
      },
      { body: S.LoginBody },
    )
    .post(
      "/api/auth/refresh",
      async ({ body, request }) => {
        if (body?.refresh_token !== undefined) {
          const r = await rotateRefreshToken(kernel, body.refresh_token, { graceMs: 0 });
          if (r.kind !== "rotated") throw refreshRefused(r.kind);
          return { access_token: r.accessToken, refresh_token: r.refreshToken };
        }
        // No body: a browser renewing its session cookies (the chat client does this before it
        // reconnects its socket; a 401 sends it to the sign-in page).
        const refresh = parseCookies(request.headers.get("cookie"))[REFRESH_COOKIE];
        if (!refresh) throw refreshRefused("invalid");
        assertSameOrigin(request, deps.config);
        const r = await rotateRefreshToken(kernel, refresh, { graceMs: COOKIE_REFRESH_GRACE_MS });
        if (r.kind !== "rotated" && r.kind !== "grace") throw refreshRefused(r.kind);
        return withCookies(new Response(null, { status: 204 }), sessionCookies(deps.config, r));
      },
      { body: t.Optional(S.RefreshBody) },
    )
    .post(
      "/api/auth/recover",
      async ({ body, request }) => {
        const r = await recoverAccount(kernel, { username: body.username, recoveryCode: body.recovery_code, newPassword: body.new_password }, requestMeta(request));
        return { recovery_code: r.recoveryCode };
      },
      { body: S.RecoverBody },
    )
    .post(
      "/api/auth/logout",
      async ({ actor, request }) => {
        await logout(kernel, actor, requestMeta(request));
        return withCookies(new Response(null, { status: 204 }), actor.via === "cookie" ? clearedSessionCookies(deps.config) : []);
      },
      { auth: true },
    )
    .get("/api/account/me", async ({ actor }) => toOwnUser(await requireOwnUser(kernel, actor)), { auth: true })
    .put(
      "/api/account/password",
      async ({ actor, body, request }) => ({ revoked_sessions: await changePassword(kernel, actor, { currentPassword: body.current_password, newPassword: body.new_password }, requestMeta(request)) }),
      { auth: true, body: S.PasswordBody },
    )
    .put(
      "/api/account/profile",
      async ({ actor, body, request }) =>
        toOwnUser(
          await updateProfile(
            kernel,
            actor,
            { displayName: body.display_name, customStatus: body.custom_status, bio: body.bio, pronouns: body.pronouns, allowDmsFromAnyone: body.allow_dms_from_anyone },
            requestMeta(request),
          ),
        ),
      { auth: true, body: S.ProfileBody },
    )
    .delete(
      "/api/account",
      async ({ actor, body, request }) => {
        await deleteAccount(kernel, actor, body.password, requestMeta(request));
        return withCookies(new Response(null, { status: 204 }), actor.via === "cookie" ? clearedSessionCookies(deps.config) : []);
      },
      { auth: true, body: S.PasswordOnlyBody },
    )
    .get(
      "/api/account/sessions",
      async ({ actor }) =>
        (await listActiveSessions(db, actor.userId, actor.sessionId, new Date(kernel.now()), kernel.signer.keyId)).map((s) => ({
          id: s.id,
          device_name: s.deviceName,
          ip_address: s.ip,
          created_at: iso(s.createdAt),
          last_used_at: iso(s.lastUsedAt),
          expires_at: iso(s.expiresAt),
          current: s.current,
        })),
      { auth: true },
    )
    .delete(
      "/api/account/sessions/:id",
      async ({ actor, params, request }) => {
        await revokeOwnSession(kernel, actor, params.id, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { auth: true, params: S.IdParams },
    )
    .post("/api/account/logout-all", async ({ actor, request }) => ({ revoked_count: await logoutAll(kernel, actor, requestMeta(request)) }), { auth: true })
    .post(
      "/api/account/regenerate-recovery-code",
      async ({ actor, body, request }) => ({ recovery_code: await regenerateRecoveryCode(kernel, actor, body?.password, requestMeta(request)) }),
      { auth: true, body: S.OptionalPasswordBody },
    )
    .post(
      "/api/totp/setup",
      async ({ actor }) => {
        const s = await startTotpSetup(kernel, actor);
        return { otpauth_url: s.otpauthUrl, secret: s.secret };
      },
      { auth: true },
    )
    .post("/api/totp/verify", async ({ actor, body, request }) => ({ enabled: true, backup_codes: await confirmTotpSetup(kernel, actor, body.code, requestMeta(request)) }), { auth: true, body: S.CodeBody })
    .post(
      "/api/totp/disable",
      async ({ actor, body, request }) => {
        await disableTotp(kernel, actor, body.code, requestMeta(request));
        return { enabled: false };
      },
      { auth: true, body: S.CodeBody },
    )
    .post("/api/totp/regenerate-backup-codes", async ({ actor, body, request }) => ({ backup_codes: await regenerateBackupCodes(kernel, actor, body.code, requestMeta(request)) }), { auth: true, body: S.CodeBody })
    .get("/api/admin/invites", async () => (await listInvites(db, kernel.now())).map(inviteJson), { admin: "invites" })
    .post(
      "/api/admin/invites",
      async ({ actor, body, request }) =>
        json(inviteJson(await createInvite(kernel, actor, { maxUses: body.max_uses ?? undefined, expiresInHours: body.expires_in_hours ?? undefined }, requestMeta(request))), { status: 201 }),
      { admin: "invites", body: S.InviteBody },
    )
    .delete(
      "/api/admin/invites/:id",
      async ({ actor, params, request }) => {
        // Id-addressed: someone without the power learns nothing, not even that the route is guarded.
        if (!hasAdminPower(actor, "invites")) throw new NotFoundError("No such invite.");
        await deleteInvite(kernel, actor, params.id, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { auth: true, params: S.IdParams },
    );
}
