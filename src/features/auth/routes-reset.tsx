/**
 * Redeeming a password-reset link an admin handed over (reset-links.ts, docs/admin.md "Reset
 * password"): the page GET/POST /reset-password/{token} and the JSON face
 * POST /api/auth/reset-password. Public (the user is signed out); CSRF as the other sign-in forms;
 * the POSTs count against the auth rate limit (src/http/rate-limit.ts). The token sits in the
 * path, which the logger redacts (src/log.ts), and in the form's action, marked data-secret so
 * the page is never compressed (src/http/compression.ts).
 */
import { Elysia, t } from "elysia";
import type { FC } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { page } from "../../http/render.ts";
import { text } from "../../http/input-schemas.ts";
import { ErrorBanner, ErrorSlot, Field } from "../../../views/index.ts";
import { assertSameOrigin } from "./csrf.ts";
import { authKernelOf } from "./kernel.ts";
import { formatTime, formField, respondWithForm, toFormState } from "./page-helpers.tsx";
import { requestMeta } from "./request-meta.ts";
import { findResetLink, HISTORY_NOTICE, redeemPasswordResetLink, RESET_LINK_PATH } from "./reset-links.ts";
import { AuthPage, type FormState } from "./views-auth.tsx";

const ResetForm: FC<{ token: string; username: string; expiresAt: Date; state: FormState }> = ({ token, username, expiresAt, state }) => (
  <form class="form" id="reset-form" method="post" action={`${RESET_LINK_PATH}${token}`} hx-post={`${RESET_LINK_PATH}${token}`} hx-target="this" hx-swap="outerHTML" data-secret>
    <ErrorSlot>{state.message ? <ErrorBanner title="Password not changed" message={state.message} /> : null}</ErrorSlot>
    <p>
      New password for <strong>@{username}</strong>. This link works once, until {formatTime(expiresAt)}.
    </p>
    <p class="signin-notice" data-testid="history-notice">
      {HISTORY_NOTICE}
    </p>
    <Field name="new_password" label="New password" type="password" autocomplete="new-password" required minLength={8} maxLength={128} error={state.fields?.new_password} />
    <p class="muted">Every session of this account ends: sign in again on each device.</p>
    <div class="form__actions">
      <button type="submit" class="btn btn--primary btn--block">
        Set the new password
      </button>
    </div>
  </form>
);

const Done: FC = () => (
  <div class="stack" id="reset-done">
    <p role="status">Your password was changed and every session was signed out.</p>
    <p class="muted">{HISTORY_NOTICE}</p>
    <a class="btn btn--primary btn--block" href="/login">
      Sign in
    </a>
  </div>
);

const Invalid: FC<{ message: string }> = ({ message }) => (
  <div class="stack">
    <ErrorBanner title="This link does not work" message={message} />
    <a class="btn btn--secondary btn--block" href="/login">
      Back to sign in
    </a>
  </div>
);

const TokenParams = t.Object({ token: text(128) });

export function passwordResetRoutes(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  const db = deps.database.db;
  const wholePage = (form: unknown) => (
    <AuthPage assets={deps.assets.page()} title="Choose a new password" subtitle="An administrator gave you this link.">
      {form as never}
    </AuthPage>
  );
  const formFor = async (token: string, state: FormState) => {
    try {
      const link = await findResetLink(db, token, kernel.now());
      return { ok: true as const, view: <ResetForm token={token} username={link.username} expiresAt={link.expiresAt} state={state} /> };
    } catch (error) {
      return { ok: false as const, view: <Invalid message={toFormState(error, {}).message ?? ""} /> };
    }
  };
  return new Elysia({ name: "password-reset" })
    .get(
      `${RESET_LINK_PATH}:token`,
      async ({ params }) => {
        const r = await formFor(params.token, {});
        return page(wholePage(r.view), { status: r.ok ? 200 : 404 });
      },
      { params: TokenParams },
    )
    .post(
      `${RESET_LINK_PATH}:token`,
      async ({ request, params, body }) => {
        assertSameOrigin(request, deps.config);
        try {
          await redeemPasswordResetLink(kernel, params.token, formField(body, "new_password"), requestMeta(request));
          return respondWithForm(request, <Done />, wholePage, 200);
        } catch (error) {
          const state = toFormState(error, {});
          const r = await formFor(params.token, state);
          return respondWithForm(request, r.view, wholePage, r.ok ? 422 : 404);
        }
      },
      { params: TokenParams, body: t.Object({ new_password: t.String({ maxLength: 1024 }) }) },
    )
    .post(
      "/api/auth/reset-password",
      async ({ request, body }) => {
        // No cookie is read or set here: a cross-site page gains nothing it lacks the token for.
        await redeemPasswordResetLink(kernel, body.token, body.new_password, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      {
        body: t.Object({
          token: t.String({ maxLength: 128, description: "The secret of the link: what follows /reset-password/." }),
          new_password: t.String({ maxLength: 1024 }),
        }),
      },
    );
}
