/**
 * Announcements (docs/admin.md "Announcements"): the admin tab and JSON API (power
 * `server_settings`), and the signed-in user's side: the banner fragment and dismissing.
 */
import { Elysia, t } from "elysia";
import type { Child } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { fragment, isHtmx, page, redirect, seeOther } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { AccountShell, authGuard, requestMeta, shellUserOf, type Actor } from "../auth/index.ts";
import { activeAnnouncementsFor, createAnnouncement, dismissAnnouncement, expireAnnouncement, listAnnouncements, updateAnnouncement, MAX_ANNOUNCEMENT_CHARS, type Announcement } from "./service.ts";
import { AnnouncementItems, AnnouncementRegion, AnnouncementsPage, EXPIRY_CHOICES, type AnnouncementsPageProps } from "./views.tsx";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const announcementJson = (a: Announcement) => ({ id: a.id, body: a.body, active: a.active, created_by: a.createdBy, created_by_username: a.createdByName, created_at: iso(a.createdAt), updated_at: iso(a.updatedAt), expires_at: iso(a.expiresAt) });

const BodyText = t.String({ minLength: 1, maxLength: MAX_ANNOUNCEMENT_CHARS * 2, description: `Markdown, 1–${MAX_ANNOUNCEMENT_CHARS} characters once trimmed.` });
const ExpiresAt = t.String({ format: "date-time", maxLength: 40, description: "ISO 8601, in the future." });
const CreateBody = t.Object({ body: BodyText, expires_at: t.Optional(t.Union([ExpiresAt, t.Null()])) });
const UpdateBody = t.Object({
  body: t.Optional(BodyText),
  expires_at: t.Optional(t.Union([ExpiresAt, t.Null()], { description: "null: no expiry (brings an expired one back)." })),
  show_again: t.Optional(t.Boolean({ description: "Show it again to those who dismissed it (their dismissals are deleted). Default false." })),
});
const ExpiryField = t.Optional(t.Union([...EXPIRY_CHOICES.map((c) => t.Literal(c.value)), t.Literal("keep")]));
const CreateForm = t.Object({ body: t.String({ maxLength: MAX_ANNOUNCEMENT_CHARS * 2 }), expires_in: ExpiryField });
const UpdateForm = t.Object({ body: t.String({ maxLength: MAX_ANNOUNCEMENT_CHARS * 2 }), expires_in: ExpiryField, show_again: t.Optional(t.Literal("true")) });
const IdParams = t.Object({ id: text(64) });

const FLASH: Record<string, string> = { published: "Published: every open tab shows it now.", saved: "Saved.", expired: "Expired: it is gone from every open tab." };

/** The form's "expires in" choice as a date (undefined: keep). */
function expiryOf(choice: string | undefined, now: number): Date | null | undefined {
  if (choice === undefined || choice === "keep") return undefined;
  const found = EXPIRY_CHOICES.find((c) => c.value === choice);
  return found?.ms == null ? null : new Date(now + found.ms);
}

/** Where a plain (script-less) dismiss goes back to: the page it was sent from, same origin only. */
const backTo = (request: Request) => {
  const referer = request.headers.get("referer");
  if (!referer) return "/";
  try {
    const url = new URL(referer);
    return url.origin === new URL(request.url).origin ? url.pathname + url.search : "/";
  } catch {
    return "/";
  }
};

/**
 * The banner for a signed-in page: the active announcements this user has not dismissed, or
 * nothing. Every signed-in page shell passes it to the Layout (`banner`).
 */
export async function announcementBanner(deps: AppDeps, userId: string): Promise<Child> {
  const items = await activeAnnouncementsFor(deps.database.db, userId, new Date((deps.now ?? Date.now)()));
  return items.length > 0 ? <AnnouncementItems items={items} /> : undefined;
}

export function announcementRoutes(deps: AppDeps) {
  const now = () => (deps.now ?? Date.now)();
  const render = async (actor: Actor, extra: Partial<AnnouncementsPageProps> = {}, flash?: string, status = 200) => {
    const body = <AnnouncementsPage announcements={await listAnnouncements(deps)} {...extra} />;
    return page(
      <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title="Announcements" current="announcements" flash={flash ? FLASH[flash] : undefined} description="A banner on every signed-in page of this instance." banner={await announcementBanner(deps, actor.userId)}>
        {body}
      </AccountShell>,
      { status },
    );
  };
  const onRefusal = (actor: Actor, targetId: string, error: unknown, draft?: string) => {
    if (error instanceof AppError && error.status < 500 && error.status !== 404) return render(actor, { error: { targetId, message: error.publicMessage }, draft }, undefined, 422);
    throw error;
  };
  const region = async (actor: Actor) => <AnnouncementRegion items={await activeAnnouncementsFor(deps.database.db, actor.userId, new Date(now()))} />;
  return (
    new Elysia({ name: "announcements" })
      .use(authGuard(deps))
      // ---- admin JSON API
      .get("/api/admin/announcements", async () => ({ announcements: (await listAnnouncements(deps)).map(announcementJson) }), { admin: "server_settings" })
      .post(
        "/api/admin/announcements",
        async ({ actor, body, request, set }) => {
          const created = await createAnnouncement(deps, actor, { body: body.body, expiresAt: body.expires_at ? new Date(body.expires_at) : null }, requestMeta(request));
          set.status = 201;
          return announcementJson(created);
        },
        { admin: "server_settings", body: CreateBody },
      )
      .patch(
        "/api/admin/announcements/:id",
        async ({ actor, params, body, request }) =>
          announcementJson(
            await updateAnnouncement(deps, actor, params.id, { body: body.body, expiresAt: body.expires_at === undefined ? undefined : body.expires_at === null ? null : new Date(body.expires_at), showAgain: body.show_again }, requestMeta(request)),
          ),
        { admin: "server_settings", params: IdParams, body: UpdateBody },
      )
      .post("/api/admin/announcements/:id/expire", async ({ actor, params, request }) => announcementJson(await expireAnnouncement(deps, actor, params.id, requestMeta(request))), { admin: "server_settings", params: IdParams })
      // ---- admin pages
      .get("/admin/announcements", ({ actor, query }) => render(actor, {}, query.saved), { admin: "server_settings", query: queryOf({ saved: text(32) }) })
      .post(
        "/admin/announcements",
        async ({ actor, body, request }) => {
          try {
            await createAnnouncement(deps, actor, { body: body.body, expiresAt: expiryOf(body.expires_in, now()) ?? null }, requestMeta(request));
            return redirect(request, "/admin/announcements?saved=published");
          } catch (error) {
            return onRefusal(actor, "new", error, body.body);
          }
        },
        { admin: "server_settings", body: CreateForm },
      )
      .post(
        "/admin/announcements/:id",
        async ({ actor, params, body, request }) => {
          try {
            await updateAnnouncement(deps, actor, params.id, { body: body.body, expiresAt: expiryOf(body.expires_in, now()), showAgain: body.show_again === "true" }, requestMeta(request));
            return redirect(request, "/admin/announcements?saved=saved");
          } catch (error) {
            return onRefusal(actor, params.id, error);
          }
        },
        { admin: "server_settings", params: IdParams, body: UpdateForm },
      )
      .post(
        "/admin/announcements/:id/expire",
        async ({ actor, params, request }) => {
          await expireAnnouncement(deps, actor, params.id, requestMeta(request));
          return redirect(request, "/admin/announcements?saved=expired");
        },
        { admin: "server_settings", params: IdParams },
      )
      // ---- every signed-in user
      .get("/api/announcements", async ({ actor }) => ({ announcements: (await activeAnnouncementsFor(deps.database.db, actor.userId, new Date(now()))).map((a) => ({ id: a.id, body: a.body, updated_at: a.updatedAt.toISOString() })) }), { auth: true })
      .post(
        "/api/announcements/:id/dismiss",
        async ({ actor, params, set }) => {
          await dismissAnnouncement(deps, actor, params.id);
          set.status = 204;
        },
        { auth: true, params: IdParams },
      )
      // The live client re-fetches this when an announcement changes or is dismissed elsewhere.
      .get("/announcements/banner", async ({ actor }) => fragment(await region(actor)), { auth: true })
      .post(
        "/announcements/:id/dismiss",
        async ({ actor, params, request }) => {
          await dismissAnnouncement(deps, actor, params.id);
          if (isHtmx(request)) return fragment(await region(actor));
          return seeOther(request, backTo(request));
        },
        { auth: true, params: IdParams },
      )
  );
}
