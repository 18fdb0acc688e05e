/**
 * Pages: /login (with the 2FA step), /register, /recover, and POST /logout. Each POST calls the
 * same service as the JSON API. Public form posts are CSRF-checked too (login CSRF).
 */
import { lastKnownRegistrationMode, registrationModeOf } from "../../db/runtime-settings.ts";
import { Elysia } from "elysia";
import type { Child } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { page, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { logout } from "./account.ts";
import { clearedSessionCookies, sessionCookies, withCookies } from "./cookies.ts";
import { assertSameOrigin } from "./csrf.ts";
import { trustedDeviceCookieFor } from "./device-cookie.ts";
import { authGuard, resolveActor } from "./guard.ts";
import { authKernelOf } from "./kernel.ts";
import { completePendingLogin, loginWithPassword, TotpRequiredError, type LoggedIn } from "./login.ts";
import { formField, formatTime, respondWithForm, toFormState } from "./page-helpers.tsx";
import { safeRedirectTarget } from "../../http/redirect-target.ts";
import { recoverAccount } from "./recovery.ts";
import { registerUser } from "./register.ts";
import { requestMeta } from "./request-meta.ts";
import { isSetupPending } from "./setup.ts";
import { AuthPage, ClosedNotice, FailedAttemptsNotice, LoginForm, RecoverForm, RecoveryCodeNotice, RegisterForm, SsoSignupForm, TotpStepForm, type FormState, type SsoOption } from "./views-auth.tsx";
import type { Config } from "../../config.ts";

const ssoOf = (config: Config): SsoOption | undefined => (config.oidc ? { passwordDisabled: config.oidc.disablePasswordLogin } : undefined);

export function authPageRoutes(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  const { config } = deps;
  const assets = () => deps.assets.page();
  // Someone sent here by a community invite link (/invite/CODE → sign in first) keeps the invite
  // when they choose to create an account instead (issue 13 §8).
  const registerLink = (next?: string) => {
    const invite = next ? /^\/invite\/([A-Za-z0-9]{1,64})$/.exec(next)?.[1] : undefined;
    return (
      <>
        New here? <a href={invite ? `/register?invite=${invite}` : "/register"}>Create an account</a>
      </>
    );
  };
  const loginLink = (
    <>
      Have an account? <a href="/login">Sign in</a>
    </>
  );
  const loginPage = (form: Child, next?: string) => (
    <AuthPage assets={assets()} title="Sign in" subtitle="Welcome back to Hearth." footer={lastKnownRegistrationMode(deps) === "closed" ? undefined : registerLink(next)}>
      {form}
    </AuthPage>
  );
  const registerPage = (form: Child) => (
    <AuthPage assets={assets()} title="Create your account" footer={loginLink}>
      {form}
    </AuthPage>
  );
  const recoverPage = (form: Child) => (
    <AuthPage assets={assets()} title="Recover your account" subtitle="Use the recovery code you saved when you registered." footer={loginLink}>
      {form}
    </AuthPage>
  );
  /**
   * A finished sign-in: session cookies plus the trusted-device cookie; then straight on to `next`,
   * or first the notice of failed attempts while the user was away (its Continue goes to `next`).
   */
  const signedIn = (request: Request, r: LoggedIn, next: string) => {
    const cookies = [...sessionCookies(config, r.tokens), trustedDeviceCookieFor(kernel, request, r.user.id)];
    if (r.failedAttempts.count === 0) return withCookies(redirect(request, next), cookies);
    const notice = <FailedAttemptsNotice count={r.failedAttempts.count} lastAt={r.failedAttempts.lastAt ? formatTime(r.failedAttempts.lastAt) : null} continueHref={next} />;
    return withCookies(respondWithForm(request, notice, loginPage, 200), cookies);
  };
  const registerForm = async (state: FormState) => {
    const setup = await isSetupPending(deps.database.db);
    const mode = await registrationModeOf(deps);
    if (!setup && mode === "closed") return <ClosedNotice />;
    const needsInvite = mode === "invite_only";
    // An invite code that came with the link is shown (and kept) in open mode too: a community
    // invite given at sign-up is joined there.
    const form = <RegisterForm state={state} needsSetupToken={setup} needsInvite={needsInvite} inviteOptional={Boolean(state.values?.invite_code)} />;
    // SSO cannot claim a new instance (the owner registers with the setup token), so it is offered
    // only once the instance is set up.
    if (!config.oidc || setup) return form;
    if (config.oidc.disablePasswordLogin) return <SsoSignupForm needsInvite={needsInvite} />;
    return (
      <>
        {form}
        <p class="divider-text" role="separator">
          or
        </p>
        <SsoSignupForm needsInvite={needsInvite} />
      </>
    );
  };

  return new Elysia({ name: "auth-pages" })
    .use(authGuard(deps))
    .get("/login", async ({ request, query, set }) => {
      const next = safeRedirectTarget(request, query.next, "/", config.publicOrigin);
      if (await resolveActor(kernel, request, set as { headers: Record<string, unknown> })) return redirect(request, next);
      return page(loginPage(<LoginForm state={{}} next={next} sso={ssoOf(config)} />, next));
    }, { query: queryOf({ next: text(2048) }) })
    .post("/login", async ({ request, body }) => {
      assertSameOrigin(request, config);
      const username = formField(body, "username");
      const next = safeRedirectTarget(request, formField(body, "next"), "/", config.publicOrigin);
      try {
        return signedIn(request, await loginWithPassword(kernel, { username, password: formField(body, "password") }, requestMeta(request)), next);
      } catch (error) {
        if (error instanceof TotpRequiredError) return respondWithForm(request, <TotpStepForm state={{}} pendingToken={error.pendingToken} next={next} />, loginPage, 200);
        return respondWithForm(request, <LoginForm state={toFormState(error, { username })} next={next} sso={ssoOf(config)} />, loginPage, 422);
      }
    })
    .post("/login/totp", async ({ request, body }) => {
      assertSameOrigin(request, config);
      const pendingToken = formField(body, "pending_token");
      const next = safeRedirectTarget(request, formField(body, "next"), "/", config.publicOrigin);
      try {
        return signedIn(request, await completePendingLogin(kernel, pendingToken, formField(body, "code"), requestMeta(request)), next);
      } catch (error) {
        const state = toFormState(error, {});
        if ((error as { code?: string }).code === "PENDING_LOGIN_EXPIRED") return respondWithForm(request, <LoginForm state={state} next={next} sso={ssoOf(config)} />, loginPage, 422);
        return respondWithForm(request, <TotpStepForm state={{ ...state, fields: { code: state.message ?? "Invalid code." } }} pendingToken={pendingToken} next={next} />, loginPage, 422);
      }
    })
    .get("/register", async ({ query }) => {
      const state: FormState = { values: { setup_token: query.setup_token, invite_code: query.invite } };
      return page(registerPage(await registerForm(state)));
    }, { query: queryOf({ setup_token: text(256), invite: text(64) }) })
    .post("/register", async ({ request, body }) => {
      assertSameOrigin(request, config);
      const values = {
        username: formField(body, "username"),
        email: formField(body, "email"),
        display_name: formField(body, "display_name"),
        invite_code: formField(body, "invite_code"),
        setup_token: formField(body, "setup_token"),
      };
      try {
        const r = await registerUser(
          kernel,
          { ...values, password: formField(body, "password"), displayName: values.display_name || undefined, inviteCode: values.invite_code || undefined, setupToken: values.setup_token || undefined },
          requestMeta(request),
        );
        // Signed up through a community invite link: continue straight into its channels.
        const notice = <RecoveryCodeNotice code={r.recoveryCode} continueHref={r.joinedCommunityId ? `/c/${r.joinedCommunityId}` : "/"} continueLabel="I saved it — continue" intro={r.joinedCommunityId ? "Your account is ready and you joined the community. Save this recovery code somewhere safe: it lets you reset your password." : "Your account is ready. Save this recovery code somewhere safe: it lets you reset your password."} />;
        return withCookies(respondWithForm(request, notice, registerPage, 200), [...sessionCookies(config, r.tokens), trustedDeviceCookieFor(kernel, request, r.user.id)]);
      } catch (error) {
        return respondWithForm(request, await registerForm(toFormState(error, values)), registerPage, 422);
      }
    })
    .get("/recover", () => page(recoverPage(<RecoverForm state={{}} />)))
    .post("/recover", async ({ request, body }) => {
      assertSameOrigin(request, config);
      const values = { username: formField(body, "username"), recovery_code: formField(body, "recovery_code") };
      try {
        const r = await recoverAccount(kernel, { username: values.username, recoveryCode: values.recovery_code, newPassword: formField(body, "new_password") }, requestMeta(request));
        const notice = <RecoveryCodeNotice code={r.recoveryCode} continueHref="/login" continueLabel="I saved it — sign in" intro="Your password was changed and every session was signed out. Here is your new recovery code; the old one no longer works." />;
        return respondWithForm(request, notice, recoverPage, 200);
      } catch (error) {
        return respondWithForm(request, <RecoverForm state={toFormState(error, values)} />, recoverPage, 422);
      }
    })
    .post(
      "/logout",
      async ({ request, actor }) => {
        await logout(kernel, actor, requestMeta(request));
        return withCookies(redirect(request, "/login"), clearedSessionCookies(config));
      },
      { auth: true },
    );
}
