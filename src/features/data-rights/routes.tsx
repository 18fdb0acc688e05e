/**
 * Data rights (issue 15 §3, docs/admin.md "Data rights"):
 *   Settings › Your data   GET /settings/data, GET /settings/data/decrypt, GET /api/account/export
 *   Admin (power privacy)  GET /admin/users/{id}/data and its forms (reauth, export, wipe);
 *                          POST /api/admin/reauth, POST /api/admin/users/{id}/export,
 *                          POST /api/admin/users/{id}/wipe
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { page } from "../../http/render.ts";
import { text, Uuid } from "../../http/input-schemas.ts";
import { AccountShell, authGuard, authKernelOf, reauthenticate, reauthExpiresAt, requestMeta, shellUserOf, type Actor } from "../auth/index.ts";
import { adminShell, deletionPlan } from "../admin/index.ts";
import { exportOwnData, exportUserData, findWipeTarget } from "./service.ts";
import { AdminDataView, DecryptView, SelfDataView, WipedView, type AdminDataProps } from "./views.tsx";
import { wipeUser } from "./wipe.ts";

const IdParams = t.Object({ id: text(64) });
const ReauthBody = t.Object({
  password: t.String({ maxLength: 1024, description: "The admin's own password." }),
  totp_code: t.Optional(t.String({ maxLength: 16, description: "A code from the authenticator app, when two-factor is on." })),
});
const ExportBody = t.Object({ passphrase: t.String({ maxLength: 1024, description: "The archive is encrypted to it (at least 12 characters): hearth-sealed v1, docs/crypto.md." }) });
const WipeBody = t.Object({
  confirm_username: t.String({ maxLength: 64, description: "The user's username, typed again: a wipe cannot be undone." }),
  heirs: t.Optional(t.Array(t.Object({ community_id: Uuid, heir_id: Uuid }), { maxItems: 1000, description: "For each community the user owns, the member who inherits it." })),
});
const HeirChoice = t.String({ maxLength: 80 });
const WipeForm = t.Object({ confirm_username: t.Optional(t.String({ maxLength: 64 })), heirs: t.Optional(t.Union([HeirChoice, t.Array(HeirChoice, { maxItems: 1000 })])) });
const ReauthForm = t.Object({ password: t.Optional(t.String({ maxLength: 1024 })), totp_code: t.Optional(t.String({ maxLength: 16 })) });
const ExportForm = t.Object({ passphrase: t.Optional(t.String({ maxLength: 1024 })) });

const heirsFromForm = (heirs: string | string[] | undefined): Record<string, string> =>
  Object.fromEntries((typeof heirs === "string" ? [heirs] : (heirs ?? [])).map((v) => v.split(":")).filter(([c, u]) => c && u).map(([c, u]) => [c!, u!]));

class ConfirmationMismatch extends AppError {
  constructor() {
    super("CONFIRMATION_MISMATCH", 400, "Type the user's username exactly to confirm the wipe.", { fields: { confirm_username: "Does not match the username." } });
  }
}

/**
 * Typed as a plain Elysia: the app's route table is at TypeScript's instantiation depth (TS2589),
 * and nothing reads this plugin's route types (the OpenAPI document is built at run time).
 */
export function dataRightsRoutes(deps: AppDeps): Elysia {
  const kernel = authKernelOf(deps);
  const db = deps.database.db;

  const selfPage = (actor: Actor, title: string, current: string, body: unknown, bundles: string[] = [], status = 200) =>
    page(
      <AccountShell assets={deps.assets.page(bundles)} user={shellUserOf(actor)} title={title} current={current} description="What this instance holds about you, yours to take.">
        {body as never}
      </AccountShell>,
      { status },
    );

  const adminPage = async (actor: Actor, id: string, extra: Partial<AdminDataProps> = {}, status = 200) => {
    const target = await findWipeTarget(deps, actor, id);
    const [until, me, plan] = await Promise.all([
      reauthExpiresAt(kernel, actor),
      db.selectFrom("users").select("totp_enabled").where("id", "=", actor.userId).executeTakeFirst(),
      deletionPlan(deps, target.id),
    ]);
    return page(
      await adminShell(deps, actor, {
        title: `Data of ${target.displayName}`,
        current: "users",
        description: `@${target.username}: export or wipe`,
        body: <AdminDataView user={target} reauthUntil={until} totp={me?.totp_enabled ?? false} plan={plan.communities} {...extra} />,
      }),
      { status },
    );
  };

  /** A refused page form: the page again with the message where the admin acted (404s stay 404s). */
  const refused = (actor: Actor, id: string, error: unknown, key: "error" | "reauthError" | "wipeError") => {
    if (error instanceof AppError && error.status < 500 && error.status !== 404 && error.code !== "ADMIN_TARGET_FORBIDDEN") return adminPage(actor, id, { [key]: error.publicMessage }, error.status === 429 ? 429 : error.status === 403 ? 403 : 422);
    throw error;
  };

  return (
    new Elysia({ name: "data-rights" })
      .use(authGuard(deps))
      // Self-service
      .get("/settings/data", ({ actor }) => selfPage(actor, "Your data", "data", <SelfDataView />, ["export-decrypt.js"]), { auth: true })
      .get("/settings/data/decrypt", ({ actor }) => selfPage(actor, "Decrypt my export", "data", <DecryptView userId={actor.userId} />, ["export-decrypt.js"]), { auth: true })
      .get(
        "/api/account/export",
        ({ actor, request }) => {
          // A GET (the page's download link), so the CSRF guard of writes does not run: a
          // cross-site page navigating here would start a heavy export in the victim's browser.
          // Browsers say where a request comes from; "none" is a typed URL or a bookmark.
          const site = request.headers.get("sec-fetch-site");
          if (site && site !== "same-origin" && site !== "none" && !request.headers.get("authorization")) {
            throw new AppError("CSRF_REJECTED", 403, "This download was started by another site, so it was refused. Start it from Settings › Your data.");
          }
          return exportOwnData(deps, actor, requestMeta(request));
        },
        { auth: true },
      )
      // Admin: JSON
      .post(
        "/api/admin/reauth",
        async ({ actor, body, request }) => {
          const at = await reauthenticate(kernel, actor, { password: body.password, totpCode: body.totp_code }, requestMeta(request));
          return { reauthenticated_until: new Date(at.getTime() + 5 * 60_000).toISOString() };
        },
        { admin: "privacy", body: ReauthBody },
      )
      .post("/api/admin/users/:id/export", ({ actor, params, body, request }) => exportUserData(deps, actor, params.id, body.passphrase, requestMeta(request)), { admin: "privacy", params: IdParams, body: ExportBody })
      .post(
        "/api/admin/users/:id/wipe",
        async ({ actor, params, body, request }) => {
          const target = await findWipeTarget(deps, actor, params.id);
          if (body.confirm_username !== target.username) throw new ConfirmationMismatch();
          const counts = await wipeUser(deps, actor, target, Object.fromEntries((body.heirs ?? []).map((h) => [h.community_id, h.heir_id])), requestMeta(request));
          return { wiped: true, counts };
        },
        { admin: "privacy", params: IdParams, body: WipeBody },
      )
      // Admin: pages
      .get("/admin/users/:id/data", ({ actor, params }) => adminPage(actor, params.id), { admin: "privacy", params: IdParams })
      .post(
        "/admin/users/:id/data/reauth",
        async ({ actor, params, body, request }) => {
          try {
            await findWipeTarget(deps, actor, params.id);
            await reauthenticate(kernel, actor, { password: body.password ?? "", totpCode: body.totp_code }, requestMeta(request));
            return await adminPage(actor, params.id);
          } catch (error) {
            return refused(actor, params.id, error, "reauthError");
          }
        },
        { admin: "privacy", params: IdParams, body: ReauthForm },
      )
      .post(
        "/admin/users/:id/data/export",
        async ({ actor, params, body, request }) => {
          try {
            return await exportUserData(deps, actor, params.id, body.passphrase ?? "", requestMeta(request));
          } catch (error) {
            return refused(actor, params.id, error, "error");
          }
        },
        { admin: "privacy", params: IdParams, body: ExportForm },
      )
      .post(
        "/admin/users/:id/data/wipe",
        async ({ actor, params, body, request }) => {
          try {
            const target = await findWipeTarget(deps, actor, params.id);
            if ((body.confirm_username ?? "").trim() !== target.username) throw new ConfirmationMismatch();
            const counts = await wipeUser(deps, actor, target, heirsFromForm(body.heirs), requestMeta(request));
            return page(await adminShell(deps, actor, { title: "Wiped", current: "users", body: <WipedView counts={counts} /> }));
          } catch (error) {
            return refused(actor, params.id, error, "wipeError");
          }
        },
        { admin: "privacy", params: IdParams, body: WipeForm },
      ) as unknown as Elysia
  );
}
