/**
 * The admin area's users tab (docs/admin.md): the JSON API under /api/admin/users and the pages
 * under /admin/users call the same services (users.ts). Every route is guarded by exactly one
 * power, `users`; the target rules (owner, self, other admins) are the service's.
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { page, redirect } from "../../http/render.ts";
import { int, queryOf, text, Uuid } from "../../http/input-schemas.ts";
import { authGuard, authKernelOf, hasAdminPower, requestMeta, type Actor } from "../auth/index.ts";
import { adminShell, firstAdminTab } from "./shell.tsx";
import { adminResetLink, adminSuspend, adminUnsuspend, checkTarget, targetRefusal, endAllSessions, endUserSessions, listUsers, userDetail, USER_FILTERS, type UserDetail, type UserFilter, type UserListItem } from "./users.ts";
import { UserDetailView, UsersList, type UserDetailProps } from "./views-users.tsx";
import { adminDeleteUser, deletionPlan } from "./delete.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const UsersQuery = queryOf({ q: text(100), filter: t.Union(USER_FILTERS.map((f) => t.Literal(f))), page: int(1, 10_000) });
const FlashQuery = queryOf({ saved: text(32) });
const ReasonBody = t.Object({ reason: t.String({ minLength: 1, maxLength: 2000, description: "Why: shown to the user at sign-in, kept in the audit log (1–500 characters once trimmed)." }) });
const IdParams = t.Object({ id: text(64) });
const DeleteBody = t.Object({
  heirs: t.Optional(
    t.Array(t.Object({ community_id: Uuid, heir_id: Uuid }), { maxItems: 1000, description: "For each community the user owns, the member who inherits it." }),
  ),
});
/** The page's delete form: one `heirs` select per owned community, valued "<community id>:<heir id>" ("<community id>:" when none chosen). */
const HeirChoice = t.String({ maxLength: 80 });
const SuspendForm = t.Object({ reason: t.Optional(t.String({ maxLength: 2000, description: "Why (1–500 characters once trimmed)." })) });
const DeleteForm = t.Object({ heirs: t.Optional(t.Union([HeirChoice, t.Array(HeirChoice, { maxItems: 1000 })])) });
const heirsFromForm = (heirs: string | string[] | undefined): Record<string, string> =>
  Object.fromEntries((typeof heirs === "string" ? [heirs] : (heirs ?? [])).map((v) => v.split(":")).filter(([c, u]) => c && u).map(([c, u]) => [c!, u!]));

const FLASH: Record<string, string> = {
  suspended: "Suspended. Their sessions ended and their open tabs were closed.",
  unsuspended: "Suspension lifted: they can sign in again.",
  sessions: "Signed out everywhere.",
  deleted: "Account deleted. Their messages stay, shown as “Deleted user”.",
  all_sessions: "Everyone else was signed out.",
};

function userJson(u: UserListItem) {
  return { id: u.id, username: u.username, display_name: u.displayName, email: u.email, is_owner: u.isOwner, is_admin: u.isAdmin, suspended_at: iso(u.suspendedAt), created_at: iso(u.createdAt), last_seen_at: iso(u.lastSeenAt) };
}

function detailJson(u: UserDetail) {
  return {
    ...userJson(u),
    suspended_reason: u.suspendedReason,
    admin_powers: u.adminPowers,
    totp_enabled: u.totpEnabled,
    sso: u.sso,
    communities: u.communities,
    sessions: u.sessions.map((s) => ({ id: s.id, device_name: s.deviceName, ip: s.ip, created_at: iso(s.createdAt), last_used_at: iso(s.lastUsedAt), api_token: s.token })),
    devices: u.devices.map((d) => ({ device_id: d.deviceId, created_at: iso(d.createdAt) })),
    audit: u.audit.map((a) => ({ id: a.id, action: a.action, actor_username: a.actorUsername, ip: a.ip, created_at: iso(a.createdAt) })),
  };
}

export function adminUserRoutes(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  const db = deps.database.db;
  const now = () => new Date(kernel.now());
  const baseUrl = (request: Request) => deps.config.publicUrl ?? new URL(request.url).origin;

  const shell = (actor: Actor, title: string, body: unknown, flash?: string, description?: string) => adminShell(deps, actor, { title, current: "users", flash: flash ? FLASH[flash] : undefined, description, body });

  const detailPage = async (actor: Actor, id: string, extra: Partial<UserDetailProps> = {}, flash?: string, status = 200) => {
    const user = await userDetail(db, id, now());
    const whyNot = targetRefusal(actor, user);
    const plan = whyNot === null ? await deletionPlan(deps, id) : undefined;
    return page(await shell(actor, user.displayName, <UserDetailView user={user} mayAct={whyNot === null} privacy={hasAdminPower(actor, "privacy")} whyNot={whyNot ?? undefined} plan={plan} {...extra} />, flash, `@${user.username}`), { status });
  };

  /** A page action's refusal (a 4xx): the detail page again, with the error where the admin acted. */
  const refused = (actor: Actor, id: string, error: unknown, extra: Partial<UserDetailProps>) => {
    if (error instanceof AppError && error.status < 500 && error.status !== 404) return detailPage(actor, id, extra, undefined, 422);
    throw error;
  };

  /** A page action: done → back to the detail page with a notice; refused → the error beside the form. */
  const act = async (actor: Actor, id: string, run: () => Promise<unknown>, flash: string, request: Request, reason?: string) => {
    try {
      await run();
      return redirect(request, `/admin/users/${id}?saved=${flash}`);
    } catch (error) {
      return refused(actor, id, error, { error: (error as AppError).publicMessage, reason });
    }
  };

  return new Elysia({ name: "admin-users" })
    .use(authGuard(deps))
    // JSON API
    .get(
      "/api/admin/users",
      async ({ query }) => {
        const r = await listUsers(db, { q: query.q, filter: (query.filter ?? "all") as UserFilter, page: query.page, now: now() });
        return { users: r.users.map(userJson), page: r.page, has_more: r.hasMore };
      },
      { admin: "users", query: UsersQuery },
    )
    .get("/api/admin/users/:id", async ({ params }) => detailJson(await userDetail(db, params.id, now())), { admin: "users", params: IdParams })
    .post(
      "/api/admin/users/:id/suspend",
      async ({ actor, params, body, request }) => {
        await adminSuspend(deps, actor, params.id, body.reason, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { admin: "users", params: IdParams, body: ReasonBody },
    )
    .post(
      "/api/admin/users/:id/unsuspend",
      async ({ actor, params, request }) => {
        await adminUnsuspend(deps, actor, params.id, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { admin: "users", params: IdParams },
    )
    .post("/api/admin/users/:id/end-sessions", async ({ actor, params, request }) => ({ revoked_count: await endUserSessions(deps, actor, params.id, requestMeta(request)) }), { admin: "users", params: IdParams })
    .get(
      "/api/admin/users/:id/deletion-plan",
      async ({ actor, params }) => {
        await checkTarget(db, actor, params.id);
        const plan = await deletionPlan(deps, params.id);
        return { communities: plan.communities.map((c) => ({ id: c.id, name: c.name, member_count: c.memberCount, heir_candidates: c.candidates.map((m) => ({ id: m.userId, username: m.username, display_name: m.displayName, role: m.role })) })) };
      },
      { admin: "users", params: IdParams },
    )
    .delete(
      "/api/admin/users/:id",
      async ({ actor, params, body, request }) => {
        await adminDeleteUser(deps, actor, params.id, Object.fromEntries((body?.heirs ?? []).map((h) => [h.community_id, h.heir_id])), requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { admin: "users", params: IdParams, body: t.Optional(DeleteBody) },
    )
    .post(
      "/api/admin/users/:id/reset-link",
      async ({ actor, params, request, set }) => {
        const link = await adminResetLink(deps, actor, params.id, baseUrl(request), requestMeta(request));
        set.status = 201;
        return { reset_url: link.url, expires_at: iso(link.expiresAt) };
      },
      { admin: "users", params: IdParams },
    )
    .post("/api/admin/sessions/end-all", async ({ actor, request }) => ({ revoked_count: await endAllSessions(deps, actor, requestMeta(request)) }), { admin: "users" })
    // Pages
    .get("/admin", ({ actor, request }) => redirect(request, firstAdminTab(actor)), { auth: true })
    .get(
      "/admin/users",
      async ({ actor, query }) => {
        const filter = (query.filter ?? "all") as UserFilter;
        const r = await listUsers(db, { q: query.q, filter, page: query.page, now: now() });
        return page(await shell(actor, "Users", <UsersList users={r.users} q={query.q ?? ""} filter={filter} page={r.page} hasMore={r.hasMore} canEndAll />, query.saved, "Find, suspend and sign out the people on this instance."));
      },
      { admin: "users", query: queryOf({ q: text(100), filter: t.Union(USER_FILTERS.map((f) => t.Literal(f))), page: int(1, 10_000), saved: text(32) }) },
    )
    .get("/admin/users/:id", ({ actor, params, query }) => detailPage(actor, params.id, {}, query.saved), { admin: "users", params: IdParams, query: FlashQuery })
    .post(
      "/admin/users/:id/suspend",
      ({ actor, params, body, request }) => {
        const reason = body?.reason ?? "";
        return act(actor, params.id, () => adminSuspend(deps, actor, params.id, reason, requestMeta(request)), "suspended", request, reason);
      },
      // An empty reason is the service's to refuse, on the page, next to the field.
      { admin: "users", params: IdParams, body: t.Optional(SuspendForm) },
    )
    .post(
      "/admin/users/:id/delete",
      async ({ actor, params, body, request }) => {
        const heirs = heirsFromForm(body?.heirs);
        try {
          await adminDeleteUser(deps, actor, params.id, heirs, requestMeta(request));
          return redirect(request, "/admin/users?saved=deleted");
        } catch (error) {
          return refused(actor, params.id, error, { deleteError: (error as AppError).publicMessage, heirs });
        }
      },
      { admin: "users", params: IdParams, body: t.Optional(DeleteForm) },
    )
    .post(
      "/admin/users/:id/reset-link",
      async ({ actor, params, request }) => {
        try {
          // Shown once, on this response (no redirect: the secret must not sit in a URL).
          return await detailPage(actor, params.id, { resetLink: await adminResetLink(deps, actor, params.id, baseUrl(request), requestMeta(request)) });
        } catch (error) {
          return refused(actor, params.id, error, { error: (error as AppError).publicMessage });
        }
      },
      { admin: "users", params: IdParams },
    )
    .post("/admin/users/:id/unsuspend", ({ actor, params, request }) => act(actor, params.id, () => adminUnsuspend(deps, actor, params.id, requestMeta(request)), "unsuspended", request), { admin: "users", params: IdParams })
    .post("/admin/users/:id/end-sessions", ({ actor, params, request }) => act(actor, params.id, () => endUserSessions(deps, actor, params.id, requestMeta(request)), "sessions", request), { admin: "users", params: IdParams })
    .post(
      "/admin/sessions/end-all",
      async ({ actor, request }) => {
        await endAllSessions(deps, actor, requestMeta(request));
        return redirect(request, "/admin/users?saved=all_sessions");
      },
      { admin: "users" },
    );
}
