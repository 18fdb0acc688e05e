/** The webhooks tab of community settings and the admin area's read-only list (docs/integrations.md). */
import type { FC } from "hono/jsx";
import { ErrorBanner, Field, SelectField } from "../../../views/index.ts";
import type { CreatedWebhook, WebhookView } from "./service.ts";

export type ChannelWebhooks = { id: string; name: string; webhooks: WebhookView[] };

/** Said in the create form and the badge: what a webhook's messages are (seeds/000). */
export const WEBHOOK_DISCLOSURE =
  "Messages posted through a webhook are NOT end-to-end encrypted: the outside service cannot hold your channel's keys, so the server stores them in plaintext (in the database and its backups) and every reader sees them with the “Webhook · not E2EE” badge. Do not let services post passwords, tokens or personal data through it.";

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace("T", " ") : "never");

export const WebhooksSection: FC<{ base: string; channels: ChannelWebhooks[]; created?: CreatedWebhook; error?: { channelId: string; message: string } }> = (p) => (
  <div class="stack">
    {p.created ? (
      <section class="card stack" id="webhook-created" aria-labelledby="webhook-created-title">
        <h2 id="webhook-created-title">Webhook “{p.created.name}” created</h2>
        <p>
          Copy its URL now: <strong>it is shown only this once</strong> (the server keeps only a hash of it). Anyone holding it can post to #{p.created.channel_name ?? ""}.
        </p>
        <div class="invite-link">
          <code class="invite-link__url" id="webhook-url" data-secret>
            {p.created.url}
          </code>
          <button type="button" class="btn btn--secondary btn--sm" data-copy-target="webhook-url">
            Copy URL
          </button>
        </div>
        <p class="muted">
          Post JSON: <code>{`{"content": "Deploy finished"}`}</code> (or Slack's <code>{`{"text": "…"}`}</code>), up to 4,000 characters.
        </p>
      </section>
    ) : null}
    {p.channels.length === 0 ? (
      <p class="muted">You cannot manage webhooks in any channel of this community.</p>
    ) : (
      <form method="post" action={p.base} class="form" id="create-webhook" hx-boost="false" aria-labelledby="create-webhook-title">
        <h2 id="create-webhook-title">New webhook</h2>
        <p class="webhook-disclosure" role="note" id="webhook-disclosure">
          {WEBHOOK_DISCLOSURE}
        </p>
        {p.error ? <ErrorBanner title="The webhook was not created" message={p.error.message} /> : null}
        <SelectField name="channel_id" id="webhook-channel" label="Channel" options={p.channels.map((c) => ({ value: c.id, label: `#${c.name}` }))} />
        <Field name="name" id="webhook-name" label="Name (shown as the author)" required maxLength={80} hint="For example: CI, Monitoring." />
        <div class="form__actions">
          <button class="btn btn--primary" type="submit">
            Create webhook
          </button>
        </div>
      </form>
    )}
    {p.channels.map((c) => (
      <section class="stack" aria-labelledby={`wh-ch-${c.id}`}>
        <h2 id={`wh-ch-${c.id}`}>#{c.name}</h2>
        {c.webhooks.length === 0 ? (
          <p class="muted">No webhooks.</p>
        ) : (
          <div class="table-wrap">
            <table class="table table--stack" role="table" data-webhooks-of={c.id}>
              <thead role="rowgroup">
                <tr role="row">
                  <th role="columnheader">Name</th>
                  <th role="columnheader">Created</th>
                  <th role="columnheader">Last used</th>
                  <th role="columnheader">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody role="rowgroup">
                {c.webhooks.map((w) => (
                  <tr role="row" data-webhook-id={w.id}>
                    <td role="cell" data-label="Name">
                      {w.name}
                    </td>
                    <td role="cell" data-label="Created">
                      {when(w.created_at)}
                      {w.created_by_name ? ` by ${w.created_by_name}` : ""}
                    </td>
                    <td role="cell" data-label="Last used">
                      {w.revoked_at ? `revoked ${when(w.revoked_at)}` : when(w.last_used_at)}
                    </td>
                    <td role="cell">
                      {w.revoked_at ? null : (
                        <form method="post" action={`${p.base}/${w.id}/revoke`} class="btn-row" data-confirm="Revoke this webhook?" data-confirm-detail={`“${w.name}” stops working at once. Messages it posted stay.`} data-confirm-action="Revoke">
                          <button class="btn btn--ghost btn--sm" type="submit" aria-label={`Revoke ${w.name}`}>
                            Revoke
                          </button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    ))}
  </div>
);

export const AdminWebhooksPage: FC<{ webhooks: (WebhookView & { community_name: string | null })[] }> = (p) => (
  <div class="stack">
    <p class="muted">Read-only. Channel members holding “manage webhooks” create and revoke them in their community's settings.</p>
    {p.webhooks.length === 0 ? (
      <p class="muted">No webhooks yet.</p>
    ) : (
      <div class="table-wrap">
        <table class="table table--stack" role="table" id="admin-webhooks">
          <thead role="rowgroup">
            <tr role="row">
              <th role="columnheader">Name</th>
              <th role="columnheader">Channel</th>
              <th role="columnheader">Created</th>
              <th role="columnheader">Last used</th>
              <th role="columnheader">State</th>
            </tr>
          </thead>
          <tbody role="rowgroup">
            {p.webhooks.map((w) => (
              <tr role="row">
                <td role="cell" data-label="Name">
                  {w.name}
                </td>
                <td role="cell" data-label="Channel">
                  {w.community_name ?? ""} · #{w.channel_name ?? ""}
                </td>
                <td role="cell" data-label="Created">
                  {when(w.created_at)}
                  {w.created_by_name ? ` by ${w.created_by_name}` : ""}
                </td>
                <td role="cell" data-label="Last used">
                  {when(w.last_used_at)}
                </td>
                <td role="cell" data-label="State">
                  {w.revoked_at ? `revoked ${when(w.revoked_at)}` : "active"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
  </div>
);
