/**
 * Sign-in, registration and recovery pages (AuthCard). Forms are htmx-enhanced
 * (hx-post, outerHTML swap of the form) and work as plain POST forms without JavaScript.
 * Passwords are never echoed back (Field type="password" drops the value).
 */
import type { Child, FC } from "hono/jsx";
import { AuthCard, ErrorBanner, ErrorSlot, Field, Layout, type PageAssets } from "../../../views/index.ts";
import type { FieldErrors } from "../../errors.ts";

export type FormState = { values?: Record<string, string | undefined>; fields?: FieldErrors; message?: string };

export const AuthPage: FC<{ assets: PageAssets; title: string; subtitle?: string; footer?: Child; children: Child }> = (p) => (
  <Layout title={p.title} assets={p.assets}>
    <AuthCard title={p.title} subtitle={p.subtitle} footer={p.footer}>
      {p.children}
    </AuthCard>
  </Layout>
);

const Banner: FC<{ state: FormState; title: string }> = ({ state, title }) => (
  <ErrorSlot>{state.message ? <ErrorBanner title={title} message={state.message} /> : null}</ErrorSlot>
);

const Submit: FC<{ label: string; testid?: string }> = ({ label, testid }) => (
  <div class="form__actions">
    <button type="submit" class="btn btn--primary btn--block" data-testid={testid}>
      {label}
    </button>
  </div>
);

/** Single sign-on offer: shown when OIDC is configured (seeds/001: a "Log in with SSO" button). */
export type SsoOption = { passwordDisabled: boolean };

const SsoButton: FC<{ href: string; label: string }> = ({ href, label }) => (
  <div class="form__actions">
    <a class="btn btn--secondary btn--block" href={href} data-testid="sso-start">
      {label}
    </a>
  </div>
);

export const LoginForm: FC<{ state: FormState; next: string; sso?: SsoOption }> = ({ state, next, sso }) =>
  sso?.passwordDisabled ? (
    <div class="form" id="login-form">
      <Banner state={state} title="Could not sign in" />
      <p>This server signs people in through single sign-on.</p>
      <SsoButton href={`/auth/oidc/start?next=${encodeURIComponent(next)}`} label="Continue with SSO" />
    </div>
  ) : (
    <form class="form" id="login-form" method="post" action="/login" hx-post="/login" hx-target="this" hx-swap="outerHTML">
      <Banner state={state} title="Could not sign in" />
      <input type="hidden" name="next" value={next} />
      <Field name="username" label="Username" autocomplete="username" required maxLength={64} value={state.values?.username} error={state.fields?.username} autofocus />
      <Field name="password" label="Password" type="password" autocomplete="current-password" required maxLength={128} error={state.fields?.password} />
      <Submit label="Sign in" testid="login-submit" />
      {sso ? (
        <>
          <p class="divider-text" role="separator">
            or
          </p>
          <SsoButton href={`/auth/oidc/start?next=${encodeURIComponent(next)}`} label="Continue with SSO" />
        </>
      ) : null}
      <p class="muted">
        <a href="/recover">Lost your password?</a>
      </p>
    </form>
  );

export const TotpStepForm: FC<{ state: FormState; pendingToken: string; next: string }> = ({ state, pendingToken, next }) => (
  <form class="form" id="totp-form" method="post" action="/login/totp" hx-post="/login/totp" hx-target="this" hx-swap="outerHTML">
    <Banner state={state} title="Could not sign in" />
    <p>Two-factor authentication is on for this account.</p>
    <input type="hidden" name="pending_token" value={pendingToken} data-secret />
    <input type="hidden" name="next" value={next} />
    <Field
      name="code"
      label="Authentication code"
      autocomplete="one-time-code"
      inputmode="text"
      required
      maxLength={16}
      hint="The 6-digit code from your authenticator app, or one of your backup codes."
      error={state.fields?.code}
      autofocus
    />
    <Submit label="Verify" testid="totp-submit" />
    <p class="muted">
      <a href="/login">Start over</a>
    </p>
  </form>
);

export type RegisterFormProps = { state: FormState; needsSetupToken: boolean; needsInvite: boolean; inviteOptional: boolean; sso?: SsoOption };

/** Sign-up through SSO: a plain GET form so the invite code travels to /auth/oidc/start. */
export const SsoSignupForm: FC<{ needsInvite: boolean }> = ({ needsInvite }) => (
  <form class="form" id="sso-signup-form" method="get" action="/auth/oidc/start">
    {needsInvite ? <Field name="invite" label="Invite code" required maxLength={64} hint="The same invite code, for an account from your identity provider." /> : null}
    <div class="form__actions">
      <button type="submit" class="btn btn--secondary btn--block" data-testid="sso-signup">
        Sign up with SSO
      </button>
    </div>
  </form>
);

export const RegisterForm: FC<RegisterFormProps> = ({ state, needsSetupToken, needsInvite, inviteOptional }) => {
  const v = state.values ?? {};
  const f = state.fields ?? {};
  return (
    <form class="form" id="register-form" method="post" action="/register" hx-post="/register" hx-target="this" hx-swap="outerHTML">
      <Banner state={state} title="Could not create the account" />
      {needsSetupToken ? (
        // data-secret: the field may hold the setup token typed in (an error re-renders it).
        <div data-secret>
        <Field name="setup_token" label="Setup token" required maxLength={256} value={v.setup_token} error={f.setup_token} hint="Printed in the server log when this instance started. The first account becomes the owner." />
        </div>
      ) : null}
      {!needsSetupToken && (needsInvite || inviteOptional) ? (
        // data-secret: an invite code typed in (an error re-renders it).
        <div data-secret>
        <Field name="invite_code" label="Invite code" required={needsInvite} maxLength={64} value={v.invite_code} error={f.invite_code} hint="From the person who invited you, like ABCD-EFGH-JKLM." />
        </div>
      ) : null}
      <Field name="username" label="Username" autocomplete="username" required minLength={3} maxLength={32} value={v.username} error={f.username} hint="3–32 letters, digits, _ - or . (starting with a letter or digit)." />
      <Field name="display_name" label="Display name" maxLength={64} value={v.display_name} error={f.display_name} />
      <Field name="email" label="Email (optional)" type="email" autocomplete="email" maxLength={254} value={v.email} error={f.email} hint="Optional. Used for meeting invitations only after you confirm it (Settings › Profile › Email). Single sign-on can link an account by a confirmed address." />
      <Field name="password" label="Password" type="password" autocomplete="new-password" required minLength={8} maxLength={128} error={f.password} hint="8–128 characters; not a common password." />
      <p class="muted form__note">
        By creating an account you accept the <a href="/terms">terms of service</a> and the <a href="/privacy">privacy policy</a>.
      </p>
      <Submit label="Create account" testid="register-submit" />
    </form>
  );
};

/** Shown once, right after registration or recovery. */
export const RecoveryCodeNotice: FC<{ code: string; continueHref: string; continueLabel: string; intro: string }> = (p) => (
  <div class="stack" id="recovery-code-notice">
    <p>{p.intro}</p>
    <p class="secret-code" data-secret data-testid="recovery-code">
      {p.code}
    </p>
    <p class="muted">This is the only time it is shown. Without it (or an administrator) a forgotten password cannot be reset.</p>
    <a class="btn btn--primary btn--block" href={p.continueHref}>
      {p.continueLabel}
    </a>
  </div>
);

/**
 * After a sign-in, when checks against the account failed since the previous one (wrong
 * passwords, codes or recovery codes from anyone, anywhere). Shown once: the count is reset.
 */
export const FailedAttemptsNotice: FC<{ count: number; lastAt: string | null; continueHref: string }> = (p) => (
  <div class="stack" id="failed-attempts-notice">
    <div class="signin-notice" role="alert" data-testid="failed-attempts-notice">
      <p class="signin-notice__title">
        {p.count === 1 ? "1 failed sign-in attempt" : `${p.count} failed sign-in attempts`} since your last sign-in
      </p>
      {p.lastAt ? <p>The most recent was at {p.lastAt}.</p> : null}
      <p>If that was not you, someone may be trying to guess your password. Consider changing it and turning on two-factor authentication.</p>
    </div>
    <a class="btn btn--primary btn--block" href={p.continueHref} data-testid="failed-attempts-continue">
      Continue
    </a>
    <a class="btn btn--secondary btn--block" href="/settings/security">
      Review security settings
    </a>
  </div>
);

export const RecoverForm: FC<{ state: FormState }> = ({ state }) => (
  <form class="form" id="recover-form" method="post" action="/recover" hx-post="/recover" hx-target="this" hx-swap="outerHTML">
    <Banner state={state} title="Could not recover the account" />
    <Field name="username" label="Username" autocomplete="username" required maxLength={64} value={state.values?.username} error={state.fields?.username} />
    <Field name="recovery_code" label="Recovery code" required maxLength={32} autocomplete="off" value={state.values?.recovery_code} error={state.fields?.recovery_code} hint="XXXX-XXXX-XXXX-XXXX, shown when you registered." />
    <Field name="new_password" label="New password" type="password" autocomplete="new-password" required minLength={8} maxLength={128} error={state.fields?.new_password} />
    <Submit label="Reset password" testid="recover-submit" />
  </form>
);

export const ClosedNotice: FC = () => (
  <div class="stack">
    <p>Registration is closed on this server. Ask an administrator for an account.</p>
    <a class="btn btn--secondary btn--block" href="/login">
      Back to sign in
    </a>
  </div>
);
