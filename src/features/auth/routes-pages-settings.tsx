/**
 * Pages for signed-in users: /settings/account, /settings/security, /admin/invites.
 * Successful plain actions answer 303 (post/redirect/get, with a flash key); failures re-render
 * the page with inline errors (422); actions that reveal a one-time secret answer 200 with it.
 */
import { announcementBanner } from "../announcements/index.ts";
import { registrationModeOf } from "../../db/runtime-settings.ts";
import { Elysia } from "elysia";
import type { Child } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { page, redirect } from "../../http/render.ts";
import { queryOf, text, Uuid } from "../../http/input-schemas.ts";
import { changePassword, deleteAccount, logoutAll, requireOwnUser, revokeOwnSession, updateProfile } from "./account.ts";
import { hasAdminPower } from "./admin-powers.ts";
import { clearedSessionCookies, withCookies } from "./cookies.ts";
import { authGuard, type Actor } from "./guard.ts";
import { usedBytes } from "../files/index.ts";
import { createInvite, deleteInvite, listInvites } from "./invites.ts";
import { authKernelOf } from "./kernel.ts";
import { formField, toFormState } from "./page-helpers.tsx";
import { regenerateRecoveryCode } from "./recovery.ts";
import { requestMeta } from "./request-meta.ts";
import { listActiveSessions } from "./sessions.ts";
import { confirmTotpSetup, disableTotp, pendingTotpSetup, regenerateBackupCodes, startTotpSetup } from "./totp.ts";
import { InvitesAdmin } from "./views-admin.tsx";
import { createAccessToken, listAccessTokens, revokeAccessToken } from "./access-tokens.ts";
import { TokensSettings, type TokensPageProps } from "./views-tokens.tsx";
import { emailStateOf, resendVerification, setEmail } from "./email-verification.ts";
import { baseUrlFor, emailRoutes } from "./routes-email.tsx";
import { AccountSettings, AccountShell, SecuritySettings, shellUserOf, type AccountPageProps, type SecurityPageProps } from "./views-settings.tsx";

/** Flash messages by key: the query string selects one, its text is never echoed. */
const FLASH: Record<string, string> = {
  profile: "Profile saved.",
  password: "Password changed. Your other devices were signed out.",
  session: "That device was signed out.",
  totp_off: "Two-factor authentication is off.",
  totp_setup: "Scan the QR code to finish setting up two-factor authentication.",
  invite: "Invite created.",
  invite_revoked: "Invite revoked.",
  token_revoked: "Token revoked. Scripts using it no longer work.",
  email: "Email saved.",
  email_sent: "Email saved. Open the link we sent to it to confirm it.",
  email_removed: "Email address removed.",
  email_resent: "A new confirmation link is on its way.",
};
const FlashQuery = queryOf({ saved: text(32) });

export function settingsPageRoutes(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  const db = deps.database.db;

  const shell = async (actor: Actor, current: string, title: string, body: Child, flashKey?: string, description?: string) => {
    const user = await requireOwnUser(kernel, actor);
    return (
      <AccountShell assets={deps.assets.page()} user={{ ...shellUserOf(actor), displayName: user.display_name, feedback: !!deps.config.github }} title={title} current={current} flash={flashKey ? FLASH[flashKey] : undefined} description={description} banner={await announcementBanner(deps, actor.userId)}>
        {body}
      </AccountShell>
    );
  };

  const accountPage = async (actor: Actor, extra: Partial<AccountPageProps>, flash?: string, status = 200) => {
    const u = await requireOwnUser(kernel, actor);
    const props: AccountPageProps = {
      profile: { displayName: u.display_name, customStatus: u.custom_status, bio: u.bio, pronouns: u.pronouns, allowDmsFromAnyone: u.allow_dms_from_anyone, username: u.username, email: u.email },
      hasPassword: u.password_hash !== null,
      storage: { usedBytes: await usedBytes(db, actor.userId), quotaBytes: deps.config.files.uploadQuotaBytes, maxFileBytes: deps.config.files.maxFileSizeBytes },
      avatar: { userId: actor.userId, imagesSrc: deps.assets.url("images-ui.js") },
      email: await emailStateOf(deps, actor.userId),
      ...extra,
    };
    return page(await shell(actor, "account", "Profile", <AccountSettings {...props} />, flash, "How other people see you."), { status });
  };

  const securityPage = async (actor: Actor, extra: Partial<SecurityPageProps>, flash?: string, status = 200) => {
    const u = await requireOwnUser(kernel, actor);
    const props: SecurityPageProps = {
      sessions: await listActiveSessions(db, actor.userId, actor.sessionId, new Date(kernel.now()), kernel.signer.keyId),
      userId: actor.userId,
      chatSrc: deps.assets.url("chat.js"),
      totpEnabled: u.totp_enabled,
      backupCodesLeft: u.totp_backup_code_hashes.length,
      pendingSetup: await pendingTotpSetup(kernel, u),
      hasPassword: u.password_hash !== null,
      ...extra,
    };
    return page(await shell(actor, "security", "Security", <SecuritySettings {...props} />, flash, "Devices, two-factor authentication, password and recovery."), { status });
  };

  const tokensPage = async (actor: Actor, request: Request, extra: Partial<TokensPageProps>, flash?: string, status = 200) => {
    const props: TokensPageProps = { tokens: await listAccessTokens(db, actor.userId, new Date(kernel.now())), publicUrl: deps.config.publicUrl ?? new URL(request.url).origin, ...extra };
    return page(await shell(actor, "tokens", "API tokens", <TokensSettings {...props} />, flash, "Personal access tokens for scripts and bots."), { status });
  };

  const invitesPage = async (actor: Actor, extra: { state?: ReturnType<typeof toFormState>; created?: string }, flash?: string, status = 200) => {
    const invites = await listInvites(db, kernel.now());
    return page(await shell(actor, "invites", "Invites", <InvitesAdmin invites={invites} registrationMode={await registrationModeOf(deps)} {...extra} />, flash, "Invite codes let people register while registration is invite-only."), { status });
  };

  const optionalInt = (raw: string, field: string): number | undefined => {
    if (raw.trim() === "") return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new InvalidInputError("Enter a whole number.", { [field]: "Enter a whole number." });
    return n;
  };

  return new Elysia({ name: "settings-pages" })
    .use(authGuard(deps))
    .use(emailRoutes(deps))
    .get("/settings", ({ request }) => redirect(request, "/settings/account"))
    .post(
      "/settings/account/email",
      async ({ actor, body, request }) => {
        const email = formField(body, "email");
        try {
          const state = await setEmail(deps, actor.userId, email, baseUrlFor(deps, request));
          return redirect(request, `/settings/account?saved=${state.email === null ? "email_removed" : state.verified || !state.mailEnabled ? "email" : "email_sent"}`);
        } catch (error) {
          return accountPage(actor, { emailFormState: toFormState(error, { email }) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/account/email/resend",
      async ({ actor, request }) => {
        try {
          await resendVerification(deps, actor.userId, baseUrlFor(deps, request));
          return redirect(request, "/settings/account?saved=email_resent");
        } catch (error) {
          return accountPage(actor, { emailFormState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .get("/settings/account", ({ actor, query }) => accountPage(actor, {}, query.saved), { auth: true, query: FlashQuery })
    .post(
      "/settings/account/profile",
      async ({ actor, body, request }) => {
        const values = { display_name: formField(body, "display_name"), custom_status: formField(body, "custom_status"), pronouns: formField(body, "pronouns"), bio: formField(body, "bio") };
        try {
          await updateProfile(
            kernel,
            actor,
            { displayName: values.display_name, customStatus: values.custom_status, pronouns: values.pronouns, bio: values.bio, allowDmsFromAnyone: formField(body, "allow_dms_from_anyone") !== "" },
            requestMeta(request),
          );
          return redirect(request, "/settings/account?saved=profile");
        } catch (error) {
          return accountPage(actor, { profileState: toFormState(error, values) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/account/delete",
      async ({ actor, body, request }) => {
        try {
          await deleteAccount(kernel, actor, formField(body, "password"), requestMeta(request));
          return withCookies(redirect(request, "/login"), clearedSessionCookies(deps.config));
        } catch (error) {
          return accountPage(actor, { deleteState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .get("/settings/security", ({ actor, query }) => securityPage(actor, {}, query.saved), { auth: true, query: FlashQuery })
    .post(
      "/settings/security/sessions/:id/revoke",
      async ({ actor, params, request }) => {
        await revokeOwnSession(kernel, actor, params.id, requestMeta(request));
        if (params.id === actor.sessionId) return withCookies(redirect(request, "/login"), clearedSessionCookies(deps.config));
        return redirect(request, "/settings/security?saved=session");
      },
      { auth: true },
    )
    .post(
      "/settings/security/logout-all",
      async ({ actor, request }) => {
        await logoutAll(kernel, actor, requestMeta(request));
        return withCookies(redirect(request, "/login"), clearedSessionCookies(deps.config));
      },
      { auth: true },
    )
    .post(
      "/settings/security/password",
      async ({ actor, body, request }) => {
        try {
          await changePassword(kernel, actor, { currentPassword: formField(body, "current_password"), newPassword: formField(body, "new_password") }, requestMeta(request));
          return redirect(request, "/settings/security?saved=password");
        } catch (error) {
          return securityPage(actor, { passwordState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/security/totp/setup",
      async ({ actor, request }) => {
        await startTotpSetup(kernel, actor);
        return redirect(request, "/settings/security?saved=totp_setup#two-factor");
      },
      { auth: true },
    )
    .post(
      "/settings/security/totp/verify",
      async ({ actor, body, request }) => {
        try {
          const codes = await confirmTotpSetup(kernel, actor, formField(body, "code"), requestMeta(request));
          return securityPage(actor, { shownBackupCodes: codes });
        } catch (error) {
          return securityPage(actor, { totpState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/security/totp/disable",
      async ({ actor, body, request }) => {
        try {
          await disableTotp(kernel, actor, formField(body, "code"), requestMeta(request));
          return redirect(request, "/settings/security?saved=totp_off");
        } catch (error) {
          return securityPage(actor, { totpState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/security/totp/backup-codes",
      async ({ actor, body, request }) => {
        try {
          return securityPage(actor, { shownBackupCodes: await regenerateBackupCodes(kernel, actor, formField(body, "code"), requestMeta(request)) });
        } catch (error) {
          return securityPage(actor, { totpState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/security/recovery-code",
      async ({ actor, body, request }) => {
        try {
          return securityPage(actor, { shownRecoveryCode: await regenerateRecoveryCode(kernel, actor, formField(body, "password"), requestMeta(request)) });
        } catch (error) {
          return securityPage(actor, { recoveryState: toFormState(error, {}) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .get("/settings/tokens", ({ actor, query, request }) => tokensPage(actor, request, {}, query.saved), { auth: true, query: FlashQuery })
    .post(
      "/settings/tokens",
      async ({ actor, body, request }) => {
        const values = { name: formField(body, "name"), scope: formField(body, "scope"), expires_in_days: formField(body, "expires_in_days") };
        try {
          const days = values.expires_in_days === "never" ? null : Number(values.expires_in_days);
          const { token, view } = await createAccessToken(kernel, actor.userId, { name: values.name, scope: values.scope, expiresInDays: Number.isNaN(days) ? -1 : days }, requestMeta(request));
          return tokensPage(actor, request, { created: { token, name: view.name } });
        } catch (error) {
          return tokensPage(actor, request, { state: toFormState(error, values) }, undefined, 422);
        }
      },
      { auth: true },
    )
    .post(
      "/settings/tokens/:id/revoke",
      async ({ actor, params, request }) => {
        await revokeAccessToken(kernel, actor.userId, params.id, requestMeta(request));
        return redirect(request, "/settings/tokens?saved=token_revoked");
      },
      { auth: true },
    )
    .get("/admin/invites", ({ actor, query }) => invitesPage(actor, {}, query.saved), { admin: "invites", query: FlashQuery })
    .post(
      "/admin/invites",
      async ({ actor, body, request }) => {
        const values = { max_uses: formField(body, "max_uses"), expires_in_hours: formField(body, "expires_in_hours") };
        try {
          const maxUses = optionalInt(values.max_uses, "max_uses");
          const hours = optionalInt(values.expires_in_hours, "expires_in_hours");
          if (maxUses !== undefined && (maxUses < 1 || maxUses > 100000)) throw new InvalidInputError("Between 1 and 100000.", { max_uses: "Between 1 and 100000." });
          if (hours !== undefined && (hours < 1 || hours > 8760)) throw new InvalidInputError("Between 1 and 8760 hours.", { expires_in_hours: "Between 1 and 8760 hours." });
          const invite = await createInvite(kernel, actor, { maxUses, expiresInHours: hours }, requestMeta(request));
          return invitesPage(actor, { created: invite.code }, "invite");
        } catch (error) {
          return invitesPage(actor, { state: toFormState(error, values) }, undefined, 422);
        }
      },
      { admin: "invites" },
    )
    .post(
      "/admin/invites/:id/delete",
      async ({ actor, params, request }) => {
        if (!hasAdminPower(actor, "invites")) throw new NotFoundError("No such invite.");
        await deleteInvite(kernel, actor, params.id, requestMeta(request));
        return redirect(request, "/admin/invites?saved=invite_revoked");
      },
      { auth: true },
    );
}
