/**
 * The account's email address and its verification (email-verification.ts, docs/meetings.md):
 *
 *   GET  /api/account/email                  the address, whether it is confirmed, whether this server sends mail
 *   PUT  /api/account/email                  set or remove it (a new address starts unconfirmed; a link is mailed)
 *   POST /api/account/email/resend           mail a new link (rate-limited)
 *   GET  /settings/email/verify/{token}      the link from the mail: a page with a Confirm button
 *                                            (GET changes nothing, so mail scanners that open links confirm nothing)
 *   POST /settings/email/verify/{token}      confirms (the token is the credential; no session needed)
 * The settings forms (POST /settings/account/email, …/resend) are in routes-pages-settings.tsx.
 */
import { Elysia, t } from "elysia";
import type { FC } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { page } from "../../http/render.ts";
import { text } from "../../http/input-schemas.ts";
import { ErrorBanner } from "../../../views/index.ts";
import { assertSameOrigin } from "./csrf.ts";
import { emailStateOf, resendVerification, setEmail, verifyEmail, VERIFY_PATH, type EmailState } from "./email-verification.ts";
import { authGuard } from "./guard.ts";
import { AuthPage } from "./views-auth.tsx";

const TokenParams = t.Object({ token: text(128) });
const emailJson = (s: EmailState) => ({ email: s.email, verified: s.verified, mail_enabled: s.mailEnabled });
export const baseUrlFor = (deps: AppDeps, request: Request) => deps.config.publicUrl ?? new URL(request.url).origin;

const ConfirmForm: FC<{ token: string }> = ({ token }) => (
  <form class="form" method="post" action={`${VERIFY_PATH}/${token}`} id="verify-email-form" data-secret>
    <p>Confirm that this email address belongs to your Hearth account. Hearth sends it meeting invitations only after this.</p>
    <div class="form__actions">
      <button type="submit" class="btn btn--primary btn--block">
        Confirm my email address
      </button>
    </div>
  </form>
);

export function emailRoutes(deps: AppDeps) {
  const wholePage = (title: string, body: unknown, status = 200) =>
    page(
      <AuthPage assets={deps.assets.page()} title={title}>
        {body as never}
      </AuthPage>,
      { status },
    );
  return new Elysia({ name: "account-email" })
    .use(authGuard(deps))
    .get("/api/account/email", async ({ actor }) => emailJson(await emailStateOf(deps, actor.userId)), { auth: true, detail: { summary: "The account's email address and whether it is confirmed", tags: ["account"] } })
    .put("/api/account/email", async ({ actor, body, request }) => emailJson(await setEmail(deps, actor.userId, body.email, baseUrlFor(deps, request))), {
      auth: true,
      body: t.Object({ email: t.String({ maxLength: 254, description: "The new address; empty to remove it. A new address is unconfirmed until its link is opened." }) }),
      detail: { summary: "Set or remove the account's email address", tags: ["account"] },
    })
    .post(
      "/api/account/email/resend",
      async ({ actor, request }) => {
        await resendVerification(deps, actor.userId, baseUrlFor(deps, request));
        return new Response(null, { status: 204 });
      },
      { auth: true, detail: { summary: "Mail a new confirmation link (rate-limited)", tags: ["account"] } },
    )
    .get(`${VERIFY_PATH}/:token`, ({ params }) => wholePage("Confirm your email", <ConfirmForm token={params.token} />), { params: TokenParams })
    .post(
      `${VERIFY_PATH}/:token`,
      async ({ params, request }) => {
        assertSameOrigin(request, deps.config);
        try {
          await verifyEmail(deps, params.token);
        } catch (error) {
          const message = error instanceof Error && "publicMessage" in error ? String((error as { publicMessage: string }).publicMessage) : "This link does not work.";
          return wholePage("This link does not work", <ErrorBanner title="Not confirmed" message={message} />, 404);
        }
        return wholePage(
          "Email confirmed",
          <div class="stack">
            <p role="status" id="email-verified">
              Your email address is confirmed. Meeting invitations can now reach it.
            </p>
            <a class="btn btn--primary btn--block" href="/settings/account">
              Back to settings
            </a>
          </div>,
        );
      },
      { params: TokenParams },
    );
}
