/**
 * The legal pages (docs/admin.md "Legal pages"): GET /terms and GET /privacy for everyone, the
 * admin tab /admin/legal and GET/PUT/DELETE under /api/admin/legal, guarded by `server_settings`.
 * One fixed route per page (no path parameter to validate).
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { page as pageResponse, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { Layout } from "../../../views/index.ts";
import { announcementBanner } from "../announcements/index.ts";
import { AccountShell, authGuard, requestMeta, shellUserOf, type Actor } from "../auth/index.ts";
import { instanceNameOf, LEGAL_PAGES, LEGAL_TITLES, MAX_LEGAL_CHARS, readLegalText, writeLegalText, type LegalPage, type LegalText } from "./service.ts";
import { LegalAdminPage, LegalArticle, type LegalAdminProps } from "./views.tsx";

const legalJson = (l: LegalText) => ({ page: l.page, body: l.body, is_default: l.isDefault, updated_at: l.updatedAt ? l.updatedAt.toISOString() : null });
const PutBody = t.Object({ body: t.String({ minLength: 1, maxLength: MAX_LEGAL_CHARS * 2, description: `Markdown, 1–${MAX_LEGAL_CHARS} characters once trimmed.` }) });
const AdminForm = t.Object({ body: t.Optional(t.String({ maxLength: MAX_LEGAL_CHARS * 2 })), restore: t.Optional(t.Literal("true")) });

export function legalRoutes(deps: AppDeps) {
  const allTexts = async () => Object.fromEntries(await Promise.all(LEGAL_PAGES.map(async (p) => [p, await readLegalText(deps, p)] as const))) as Record<LegalPage, LegalText>;
  const renderAdmin = async (actor: Actor, extra: Partial<LegalAdminProps> = {}, saved?: string, status = 200) =>
    pageResponse(
      <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title="Legal pages" current="legal" flash={saved === "saved" ? "Saved: the public page shows it now." : saved === "restored" ? "The default text is back." : undefined} description="Terms of service and privacy policy of this instance." banner={await announcementBanner(deps, actor.userId)}>
        <LegalAdminPage texts={await allTexts()} {...extra} />
      </AccountShell>,
      { status },
    );

  const onePage = (page: LegalPage) =>
    new Elysia({ name: `legal-${page}` })
      .use(authGuard(deps))
      .get(
        `/${page}`,
        async ({ actor }) =>
          pageResponse(
            <Layout title={LEGAL_TITLES[page]} assets={deps.assets.page()} topBar user={actor ? { id: actor.userId, displayName: actor.displayName } : null} banner={actor ? await announcementBanner(deps, actor.userId) : undefined}>
              <LegalArticle text={await readLegalText(deps, page)} instanceName={instanceNameOf(deps.config)} />
            </Layout>,
          ),
        { optionalAuth: true },
      )
      .put(`/api/admin/legal/${page}`, async ({ actor, body, request }) => legalJson(await writeLegalText(deps, actor, page, body.body, requestMeta(request))), { admin: "server_settings", body: PutBody })
      .delete(`/api/admin/legal/${page}`, async ({ actor, request }) => legalJson(await writeLegalText(deps, actor, page, null, requestMeta(request))), { admin: "server_settings" })
      .post(
        `/admin/legal/${page}`,
        async ({ actor, body, request }) => {
          try {
            await writeLegalText(deps, actor, page, body.restore === "true" ? null : (body.body ?? ""), requestMeta(request));
            return redirect(request, `/admin/legal?saved=${body.restore === "true" ? "restored" : "saved"}`);
          } catch (error) {
            if (error instanceof AppError && error.status < 500) return renderAdmin(actor, { error: { page, message: error.publicMessage, draft: body.body } }, undefined, 422);
            throw error;
          }
        },
        { admin: "server_settings", body: AdminForm },
      );

  return new Elysia({ name: "legal" })
    .use(authGuard(deps))
    .use(onePage("terms"))
    .use(onePage("privacy"))
    .get("/api/admin/legal", async () => ({ pages: Object.values(await allTexts()).map(legalJson) }), { admin: "server_settings" })
    .get("/admin/legal", ({ actor, query }) => renderAdmin(actor, {}, query.saved), { admin: "server_settings", query: queryOf({ saved: text(32) }) });
}
