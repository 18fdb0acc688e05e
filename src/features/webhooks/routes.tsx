/**
 * Incoming webhooks over HTTP (docs/integrations.md):
 *
 *   POST   /webhook/{token}                      the outside service posts (no session; the token is the credential)
 *   POST   /api/channels/{id}/webhooks           create (manage_webhooks): the token, once
 *   GET    /api/channels/{id}/webhooks           list (manage_webhooks)
 *   DELETE /api/webhooks/{id}                    revoke (manage_webhooks in its channel)
 *   GET    /c/{id}/settings/webhooks             the community settings tab: create form, lists, Revoke
 *   POST   /c/{id}/settings/webhooks             create (shows the token and URL once, with Copy)
 *   POST   /c/{id}/settings/webhooks/{webhookId}/revoke
 *   GET    /api/admin/webhooks, GET /admin/webhooks   every webhook of the instance, read-only (power: privacy)
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { json, page, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { authGuard, AccountShell, shellUserOf, type Actor } from "../auth/index.ts";
import { listVisibleGroups } from "../channels/index.ts";
import { baseUrlOf, formOf, getCommunity, renderPage, SettingsFrame, visibleSections } from "../communities/index.ts";
import { createWebhook, listAllWebhooks, listChannelWebhooks, postToWebhook, revokeWebhook, WEBHOOK_CONTENT_MAX, WEBHOOK_NAME_MAX, type CreatedWebhook, type WebhookView } from "./service.ts";
import { AdminWebhooksPage, WebhooksSection, type ChannelWebhooks } from "./views.tsx";

/** Our shape and Slack's (`text`, `icon_url`); other Slack fields are dropped. Content above 4,000 characters is a 413 (service.ts). */
const PostBody = t.Object({
  content: t.Optional(t.String({ maxLength: 16_000, description: `The message, at most ${WEBHOOK_CONTENT_MAX} characters (413 above). Shown as plain text with the "Webhook · not E2EE" badge.` })),
  text: t.Optional(t.String({ maxLength: 16_000, description: "Slack-compatible alias of content." })),
  username: t.Optional(t.String({ maxLength: 200, description: `Author name shown for this message (at most ${WEBHOOK_NAME_MAX} characters); the webhook's name when absent.` })),
  avatar_url: t.Optional(t.String({ maxLength: 2048, description: "An https URL, stored with the message; clients do not load it (a reader's address would reach that host)." })),
  icon_url: t.Optional(t.String({ maxLength: 2048, description: "Slack-compatible alias of avatar_url." })),
});
const CreateBody = t.Object({ name: t.String({ maxLength: 200 }) });
const CreateForm = t.Object({ name: t.Optional(t.String({ maxLength: 200 })), channel_id: t.Optional(t.String({ maxLength: 64 })) });

const webhookJson = (w: WebhookView) => ({ id: w.id, channel_id: w.channel_id, name: w.name, created_by: w.created_by, created_at: w.created_at, last_used_at: w.last_used_at, revoked_at: w.revoked_at });

export function webhookRoutes(deps: AppDeps) {
  const settingsPage = async (actor: Actor, request: Request, communityId: string, extra: { created?: CreatedWebhook; error?: { channelId: string; message: string }; status?: number; toast?: string } = {}) => {
    const access = await getCommunity(deps, actor, communityId);
    const visible = visibleSections(access);
    const groups = await listVisibleGroups(deps, actor, communityId);
    const channels: ChannelWebhooks[] = [];
    for (const g of groups) {
      for (const c of g.channels) {
        if (c.kind === "voice" || c.archived) continue;
        try {
          channels.push({ id: c.id, name: c.name ?? "", webhooks: await listChannelWebhooks(deps, actor, c.id) });
        } catch (error) {
          if (!(error instanceof AppError && error.status === 403)) throw error; // not this actor's to manage
        }
      }
    }
    const c = access.community;
    const body = <WebhooksSection base={`/c/${c.id}/settings/webhooks`} channels={channels} created={extra.created} error={extra.error} />;
    return renderPage(deps, request, actor, `Settings · ${c.name}`, <SettingsFrame communityId={c.id} name={c.name} section="webhooks" visible={visible.includes("webhooks") ? visible : [...visible, "webhooks"]}>{body}</SettingsFrame>, { status: extra.status, toast: extra.toast });
  };

  return new Elysia({ name: "webhooks" })
    .use(authGuard(deps))
    // No session, no CSRF: the token in the path is the credential (stored hashed).
    .post(
      "/webhook/:token",
      async ({ params, body }) => {
        const message = await postToWebhook(deps, params.token, body);
        return json({ id: message.id, channel_id: message.channel_id, seq: message.seq }, { status: 201 });
      },
      { body: PostBody, detail: { summary: "Post a plaintext message through an incoming webhook", tags: ["webhooks"] } },
    )
    .post(
      "/api/channels/:id/webhooks",
      async ({ actor, params, body, request }) => {
        const w = await createWebhook(deps, actor, params.id, body, baseUrlOf(deps, request));
        return json({ ...webhookJson(w), token: w.token, url: w.url }, { status: 201 });
      },
      { auth: true, body: CreateBody, detail: { summary: "Create a channel webhook (the token is in this answer only)", tags: ["webhooks"] } },
    )
    .get("/api/channels/:id/webhooks", async ({ actor, params }) => ({ webhooks: (await listChannelWebhooks(deps, actor, params.id)).map(webhookJson) }), { auth: true, detail: { tags: ["webhooks"] } })
    .delete(
      "/api/webhooks/:id",
      async ({ actor, params }) => {
        await revokeWebhook(deps, actor, params.id);
        return new Response(null, { status: 204 });
      },
      { auth: true, detail: { summary: "Revoke a webhook", tags: ["webhooks"] } },
    )
    .get("/c/:id/settings/webhooks", async ({ actor, params, request, query }) => settingsPage(actor, request, params.id, { toast: query.revoked ? "Webhook revoked. Its URL no longer works." : undefined }), { auth: true, query: queryOf({ revoked: text(8) }) })
    .post(
      "/c/:id/settings/webhooks",
      async ({ actor, params, body, request }) => {
        const form = formOf(body);
        try {
          const created = await createWebhook(deps, actor, form.channel_id ?? "", { name: form.name }, baseUrlOf(deps, request));
          return settingsPage(actor, request, params.id, { created, status: 201 });
        } catch (error) {
          if (error instanceof AppError && (error.status === 400 || error.status === 409)) return settingsPage(actor, request, params.id, { error: { channelId: form.channel_id ?? "", message: error.publicMessage }, status: 422 });
          throw error;
        }
      },
      { auth: true, body: CreateForm },
    )
    .post(
      "/c/:id/settings/webhooks/:webhookId/revoke",
      async ({ actor, params, request }) => {
        await revokeWebhook(deps, actor, params.webhookId);
        return redirect(request, `/c/${params.id}/settings/webhooks?revoked=1`);
      },
      { auth: true },
    )
    .get("/api/admin/webhooks", async () => ({ webhooks: (await listAllWebhooks(deps)).map((w) => ({ ...webhookJson(w), channel_name: w.channel_name, community_id: w.community_id, community_name: w.community_name })) }), { admin: "privacy", detail: { tags: ["admin"] } })
    .get("/admin/webhooks", async ({ actor }) =>
      page(
        <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title="Webhooks" current="webhooks" description="Every incoming webhook of this instance. Their messages are stored in plaintext.">
          <AdminWebhooksPage webhooks={await listAllWebhooks(deps)} />
        </AccountShell>,
      ),
      { admin: "privacy" },
    );
}
