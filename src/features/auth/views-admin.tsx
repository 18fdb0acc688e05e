/** /admin/invites: create and revoke registration invites. */
import type { FC } from "hono/jsx";
import { ErrorBanner, ErrorSlot, Field } from "../../../views/index.ts";
import type { InviteView } from "./invites.ts";
import { formatTime } from "./page-helpers.tsx";
import type { FormState } from "./views-auth.tsx";

export const InvitesAdmin: FC<{ invites: InviteView[]; state?: FormState; registrationMode: string; created?: string }> = ({ invites, state, registrationMode, created }) => (
  <div class="stack">
    {registrationMode !== "invite_only" ? (
      <p class="muted">
        Registration mode is <strong>{registrationMode}</strong>: invite codes are only required when REGISTRATION_MODE is invite_only.
      </p>
    ) : null}
    <section class="card stack" aria-labelledby="new-invite-h">
      <h2 id="new-invite-h">New invite</h2>
      <form class="form" method="post" action="/admin/invites" id="invite-form">
        <ErrorSlot>{state?.message ? <ErrorBanner title="Could not create the invite" message={state.message} /> : null}</ErrorSlot>
        <Field name="max_uses" label="Maximum uses" type="number" min={1} max={100000} value={state?.values?.max_uses} error={state?.fields?.max_uses} hint="Empty: unlimited." />
        <Field name="expires_in_hours" label="Expires after (hours)" type="number" min={1} max={8760} value={state?.values?.expires_in_hours} error={state?.fields?.expires_in_hours} hint="1 to 8760 (one year). Empty: never." />
        <div class="form__actions">
          <button type="submit" class="btn btn--primary">
            Create invite
          </button>
        </div>
      </form>
    </section>
    <section class="panel" aria-labelledby="invites-h">
      <div class="panel__header">
        <h2 class="panel__title" id="invites-h">
          Invites
        </h2>
      </div>
      <div class="table-wrap">
        <table class="table" data-testid="invites-table">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Uses</th>
              <th scope="col">Expires</th>
              <th scope="col">Created by</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invites.length === 0 ? (
              <tr>
                <td colspan={5} class="muted">
                  No invites yet.
                </td>
              </tr>
            ) : null}
            {invites.map((i) => (
              <tr data-invite-id={i.id}>
                <td>
                  <div class="invite-link">
                    <code class="invite-link__url" data-secret>{i.code}</code> {i.code === created ? <span class="badge badge--accent">New</span> : null}
                    {i.usable ? (
                      // The sign-up link with the code filled in; the button copies it as a full URL.
                      <button type="button" class="btn btn--secondary btn--sm" data-copy={`/register?invite=${i.code}`} aria-label={`Copy link: the sign-up link of invite ${i.code}`}>
                        Copy link
                      </button>
                    ) : (
                      <span class="badge badge--neutral">Spent</span>
                    )}
                  </div>
                  <p class="muted" data-invite-allows>
                    {i.usable
                      ? `Lets ${i.maxUses === null ? "anyone with it" : i.maxUses - i.uses === 1 ? "one person" : `${i.maxUses - i.uses} people`} create an account on this server (they join no community by it).`
                      : "Used up or expired: it no longer lets anyone in."}
                  </p>
                </td>
                <td>
                  {i.uses} / {i.maxUses ?? "∞"}
                </td>
                <td>{i.expiresAt ? formatTime(i.expiresAt) : "never"}</td>
                <td>{i.createdBy ?? "—"}</td>
                <td>
                  <form method="post" action={`/admin/invites/${i.id}/delete`} class="inline-form">
                    <button type="submit" class="btn btn--ghost btn--sm" aria-label={`Revoke invite ${i.code}`}>
                      Revoke
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  </div>
);
