/**
 * Two admin tabs (docs/admin.md): Communities (power `directory`: every community with its owner,
 * members and size) and Reports (power `users`: the reports moderators escalated, closed by an
 * administrator with an audited outcome). JSON under /api/admin/…, pages under /admin/…, the same
 * services behind both.
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { page, redirect } from "../../http/render.ts";
import { int, queryOf, text, Uuid } from "../../http/input-schemas.ts";
import { authGuard, requestMeta, type Actor } from "../auth/index.ts";
import { closeEscalatedReport, ESCALATION_FILTERS, listEscalatedReports, type EscalatedReport, type EscalationFilter } from "../moderation/index.ts";
import { listCommunities, type AdminCommunity } from "./communities.ts";
import { adminShell } from "./shell.tsx";
import { CommunitiesList, ReportsQueue } from "./views-more.tsx";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const Status = t.Union(ESCALATION_FILTERS.map((f) => t.Literal(f)), { description: "open (default), closed or all." });
const Outcome = t.Union([t.Literal("resolved"), t.Literal("dismissed")]);
const Note = t.String({ maxLength: 2000, description: "Kept in the audit log (≤ 2,000 characters)." });
const ReportParams = t.Object({ id: Uuid });

const communityJson = (c: AdminCommunity) => ({
  id: c.id, name: c.name, owner: { id: c.ownerId, username: c.ownerUsername, display_name: c.ownerName }, member_count: c.members, channel_count: c.channels,
  message_count: c.messages, storage_bytes: c.storageBytes, created_at: c.createdAt.toISOString(),
});

const reportJson = (r: EscalatedReport) => ({
  id: r.id, community_id: r.communityId, community_name: r.communityName, target_type: r.targetType, target_id: r.targetId, target_name: r.targetName, reason: r.reason,
  attached_text: r.attachedText, reporter_name: r.reporterName, created_at: r.createdAt.toISOString(), community_status: r.communityStatus, escalated_at: r.escalatedAt.toISOString(),
  escalated_by_name: r.escalatedByName, escalation_note: r.escalationNote, admin_status: r.adminStatus, admin_note: r.adminNote, admin_closed_at: iso(r.adminClosedAt),
  admin_closed_by_name: r.adminClosedByName,
});

const FLASH: Record<string, string> = { closed: "Report closed. The outcome is in the audit log." };

export function adminMoreRoutes(deps: AppDeps) {
  const db = deps.database.db;
  const reportsPage = async (actor: Actor, filter: EscalationFilter, flash?: string, error?: { id: string; message: string }, status = 200) =>
    page(
      await adminShell(deps, actor, { title: "Reports", current: "admin-reports", flash: flash ? FLASH[flash] : undefined, description: "Reports moderators escalated to the instance.", body: <ReportsQueue reports={await listEscalatedReports(deps, filter)} filter={filter} error={error} /> }),
      { status },
    );
  return new Elysia({ name: "admin-more" })
    .use(authGuard(deps))
    .get(
      "/api/admin/communities",
      async ({ query }) => {
        const r = await listCommunities(db, { q: query.q, page: query.page });
        return { communities: r.communities.map(communityJson), page: r.page, has_more: r.hasMore };
      },
      { admin: "directory", query: queryOf({ q: text(100), page: int(1, 10_000) }) },
    )
    .get(
      "/admin/communities",
      async ({ actor, query }) => {
        const r = await listCommunities(db, { q: query.q, page: query.page });
        return page(await adminShell(deps, actor, { title: "Communities", current: "admin-communities", description: "Every community on this instance.", body: <CommunitiesList communities={r.communities} q={query.q ?? ""} page={r.page} hasMore={r.hasMore} /> }));
      },
      { admin: "directory", query: queryOf({ q: text(100), page: int(1, 10_000) }) },
    )
    .get("/api/admin/reports", async ({ query }) => ({ reports: (await listEscalatedReports(deps, query.status ?? "open")).map(reportJson) }), { admin: "users", query: queryOf({ status: Status }) })
    .post(
      "/api/admin/reports/:id/close",
      async ({ actor, params, body, request }) => {
        await closeEscalatedReport(deps, actor, params.id, body.outcome, body.note, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { admin: "users", params: ReportParams, body: t.Object({ outcome: Outcome, note: t.Optional(t.Nullable(Note)) }) },
    )
    .get("/admin/reports", ({ actor, query }) => reportsPage(actor, query.status ?? "open", query.saved), { admin: "users", query: queryOf({ status: Status, saved: text(32) }) })
    .post(
      "/admin/reports/:id/close",
      async ({ actor, params, body, request }) => {
        try {
          await closeEscalatedReport(deps, actor, params.id, body.outcome, body.note, requestMeta(request));
          return redirect(request, "/admin/reports?saved=closed");
        } catch (error) {
          if (error instanceof AppError && error.status < 500 && error.status !== 404) return reportsPage(actor, "open", undefined, { id: params.id, message: error.publicMessage }, error.status);
          throw error;
        }
      },
      { admin: "users", params: ReportParams, body: t.Object({ outcome: Outcome, note: t.Optional(Note) }) },
    );
}
