/**
 * Link previews over HTTP (docs/integrations.md "Link previews"):
 *
 *   POST /api/link-preview              {url} -> {url, title, description, site_name, image_url}
 *   GET  /api/account/link-previews     {enabled}
 *   PUT  /api/account/link-previews     {enabled}
 *   GET  /settings/link-previews        the switch, and what the server learns
 *   POST /settings/link-previews        the switch as a form
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { page, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { AccountShell, authGuard, shellUserOf } from "../auth/index.ts";
import { CheckboxField } from "../../../views/index.ts";
import { linkPreviewsEnabled, previewLink, setLinkPreviews, URL_MAX } from "./service.ts";

/** Said on the settings page and in the composer's preview card (src/client/chat/link-preview.ts). */
export const LINK_PREVIEW_DISCLOSURE =
  "When you write a link, Hearth asks the server to fetch a preview of it (title, description, image link), so the server learns the addresses you preview, though not your message. The preview then travels inside your encrypted message: the people reading it fetch nothing. Turn this off and no link you write reaches the server.";

export function linkPreviewRoutes(deps: AppDeps) {
  return new Elysia({ name: "link-previews" })
    .use(authGuard(deps))
    .post("/api/link-preview", async ({ actor, body }) => previewLink(deps, actor.userId, body.url), {
      auth: true,
      body: t.Object({ url: t.String({ maxLength: URL_MAX, description: "An http or https URL. Private, loopback, link-local and reserved addresses are refused (LINK_PREVIEW_REFUSED)." }) }),
      detail: { summary: "Fetch a link preview for the composer (the server learns the URL)", tags: ["link-previews"] },
    })
    .get("/api/account/link-previews", async ({ actor }) => ({ enabled: await linkPreviewsEnabled(deps, actor.userId) }), { auth: true, detail: { tags: ["link-previews"] } })
    .put(
      "/api/account/link-previews",
      async ({ actor, body }) => {
        await setLinkPreviews(deps, actor.userId, body.enabled);
        return { enabled: body.enabled };
      },
      { auth: true, body: t.Object({ enabled: t.Boolean() }), detail: { tags: ["link-previews"] } },
    )
    .get(
      "/settings/link-previews",
      async ({ actor, query }) => {
        const enabled = await linkPreviewsEnabled(deps, actor.userId);
        return page(
          <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title="Link previews" current="link-previews" flash={query.saved ? "Saved." : undefined} description="Previews of the links you write.">
            <form method="post" action="/settings/link-previews" class="form" id="link-preview-settings">
              <p class="webhook-disclosure" role="note" id="link-preview-disclosure">
                {LINK_PREVIEW_DISCLOSURE}
              </p>
              <CheckboxField name="enabled" id="link-previews-enabled" value="on" label="Show previews of links I write" checked={enabled} />
              <div class="form__actions">
                <button class="btn btn--primary" type="submit">
                  Save
                </button>
              </div>
            </form>
          </AccountShell>,
        );
      },
      { auth: true, query: queryOf({ saved: text(8) }) },
    )
    .post(
      "/settings/link-previews",
      async ({ actor, body, request }) => {
        await setLinkPreviews(deps, actor.userId, body.enabled === "on");
        return redirect(request, "/settings/link-previews?saved=1");
      },
      { auth: true, body: t.Object({ enabled: t.Optional(t.String({ maxLength: 8 })) }) },
    );
}
