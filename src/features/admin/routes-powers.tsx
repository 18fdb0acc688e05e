/**
 * The powers tab (docs/admin.md "Powers"): GET /api/admin/powers, PUT /api/admin/users/{id}/powers
 * and the page /admin/powers with its forms; all guarded by the power `roles`, all through
 * powers.ts (the rules on who changes what are there).
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { page, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { ADMIN_POWERS, authGuard, hasAdminPower, requestMeta, type Actor } from "../auth/index.ts";
import { listAdmins, powersRefusal, setAdminPowers, POWER_LABELS, type AdminListItem } from "./powers.ts";
import { adminShell } from "./shell.tsx";
import { PowersPage, type PowersPageProps } from "./views-powers.tsx";

const PowerName = t.String({ maxLength: 32 });
const PowersBody = t.Object({
  is_admin: t.Boolean({ description: "false: no longer an administrator (every power goes)." }),
  powers: t.Array(PowerName, { maxItems: 32, description: `Among: ${ADMIN_POWERS.join(", ")}.` }),
});
/** Form posts: `is_admin` "true"/"false" and zero, one or several `powers`. */
const PowerField = t.Optional(t.Union([PowerName, t.Array(PowerName, { maxItems: 32 })]));
const PowersForm = t.Object({ is_admin: t.Union([t.Literal("true"), t.Literal("false")]), powers: PowerField });
const GrantForm = t.Object({ username: t.String({ maxLength: 64 }), powers: PowerField });
const IdParams = t.Object({ id: text(64) });
const listOf = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === "string" ? [v] : v);

const FLASH: Record<string, string> = { saved: "Powers saved. They apply from their next request.", removed: "No longer an administrator.", granted: "Administrator added." };

const adminJson = (a: AdminListItem) => ({ id: a.id, username: a.username, display_name: a.displayName, is_owner: a.isOwner, powers: a.powers, suspended: a.suspended });

export function adminPowerRoutes(deps: AppDeps) {
  const db = deps.database.db;
  const render = async (actor: Actor, extra: Partial<PowersPageProps> = {}, flash?: string, status = 200) => {
    const admins = await listAdmins(db);
    const held = ADMIN_POWERS.filter((p) => hasAdminPower(actor, p));
    const body = <PowersPage admins={admins} held={held} refusalFor={(a) => powersRefusal(actor, a)} {...extra} />;
    return page(await adminShell(deps, actor, { title: "Powers", current: "powers", flash: flash ? FLASH[flash] : undefined, description: "Who administers this instance, and with which powers.", body }), { status });
  };
  const onRefusal = (actor: Actor, targetId: string, error: unknown, username?: string) => {
    if (error instanceof AppError && error.status < 500) return render(actor, { error: { targetId, message: error.publicMessage }, username }, undefined, 422);
    throw error;
  };
  return new Elysia({ name: "admin-powers" })
    .use(authGuard(deps))
    .get("/api/admin/powers", async () => ({ powers: ADMIN_POWERS.map((name) => ({ name, label: POWER_LABELS[name] })), admins: (await listAdmins(db)).map(adminJson) }), { admin: "roles" })
    .put(
      "/api/admin/users/:id/powers",
      async ({ actor, params, body, request }) => adminJson(await setAdminPowers(deps, actor, { id: params.id }, { isAdmin: body.is_admin, powers: body.powers }, requestMeta(request))),
      { admin: "roles", params: IdParams, body: PowersBody },
    )
    .get("/admin/powers", ({ actor, query }) => render(actor, {}, query.saved), { admin: "roles", query: queryOf({ saved: text(32) }) })
    .post(
      "/admin/users/:id/powers",
      async ({ actor, params, body, request }) => {
        const isAdmin = body.is_admin === "true";
        try {
          await setAdminPowers(deps, actor, { id: params.id }, { isAdmin, powers: listOf(body.powers) }, requestMeta(request));
          return redirect(request, `/admin/powers?saved=${isAdmin ? "saved" : "removed"}`);
        } catch (error) {
          return onRefusal(actor, params.id, error);
        }
      },
      { admin: "roles", params: IdParams, body: PowersForm },
    )
    .post(
      "/admin/powers/grant",
      async ({ actor, body, request }) => {
        try {
          await setAdminPowers(deps, actor, { username: body.username }, { isAdmin: true, powers: listOf(body.powers) }, requestMeta(request));
          return redirect(request, "/admin/powers?saved=granted");
        } catch (error) {
          return onRefusal(actor, "new", error, body.username);
        }
      },
      { admin: "roles", body: GrantForm },
    );
}
