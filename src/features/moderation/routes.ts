/** JSON API of moderation: kick, bans, timeouts, warnings, reports, the community audit log. */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { int, queryOf, text, Uuid } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { accessCommunity, requireCan } from "../permissions/index.ts";
import { listCommunityAudit } from "../communities/index.ts";
import { banUser, kickMember, listBans, listTimeouts, listWarnings, removeTimeout, timeoutMember, unbanUser, warnMember } from "./service.ts";
import { closeReport, createReport, listReports } from "./reports.ts";
import { escalateReport } from "./escalations.ts";
import { addReportFile, listReportFiles, readReportFile, REPORT_FILES_BODY_BUDGET } from "./report-files.ts";
import { bodyBudgets } from "../../http/body-budget.ts";

const Reason = t.Optional(t.Nullable(t.String({ maxLength: 5000 })));

export function moderationApiRoutes(deps: AppDeps) {
  const db = deps.database.db;
  return new Elysia({ name: "moderation-api" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .delete("/api/communities/:id/members/:userId", async ({ actor, params, body }) => {
      await kickMember(deps, actor, params.id, params.userId, { reason: body?.reason });
      return new Response(null, { status: 204 });
    }, { auth: true, body: t.Optional(t.Object({ reason: Reason })) })
    .get("/api/communities/:id/bans", async ({ actor, params }) => ({
      bans: (await listBans(deps, actor, params.id)).map((b) => ({ user_id: b.userId, username: b.username, display_name: b.displayName, reason: b.reason, created_at: b.createdAt.toISOString() })),
    }), { auth: true })
    .put("/api/communities/:id/bans/:userId", async ({ actor, params, body }) => {
      await banUser(deps, actor, params.id, params.userId, { reason: body.reason, deleteMessageDays: body.delete_message_days });
      return new Response(null, { status: 204 });
    }, { auth: true, body: t.Object({ reason: Reason, delete_message_days: t.Optional(t.Integer()) }) })
    .delete("/api/communities/:id/bans/:userId", async ({ actor, params }) => {
      await unbanUser(deps, actor, params.id, params.userId);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/communities/:id/timeouts", async ({ actor, params }) => ({
      timeouts: (await listTimeouts(deps, actor, params.id)).map((x) => ({ user_id: x.userId, display_name: x.displayName, expires_at: x.expiresAt.toISOString(), reason: x.reason })),
    }), { auth: true })
    .put("/api/communities/:id/timeouts/:userId", async ({ actor, params, body }) => {
      const { until } = await timeoutMember(deps, actor, params.id, params.userId, { durationSeconds: body.duration_seconds, reason: body.reason });
      return { user_id: params.userId, expires_at: until.toISOString() };
    }, { auth: true, body: t.Object({ duration_seconds: t.Integer(), reason: Reason }) })
    .delete("/api/communities/:id/timeouts/:userId", async ({ actor, params }) => {
      await removeTimeout(deps, actor, params.id, params.userId);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/communities/:id/warnings", async ({ actor, params, query }) => ({
      warnings: (await listWarnings(deps, actor, params.id, query.user_id)).map((w) => ({ id: w.id, user_id: w.userId, reason: w.reason, created_at: w.createdAt.toISOString(), created_by_name: w.createdByName })),
    }), { auth: true, query: queryOf({ user_id: Uuid }) })
    .post("/api/communities/:id/warnings", async ({ actor, params, body }) => {
      const w = await warnMember(deps, actor, params.id, body.user_id, { reason: body.reason });
      return json({ id: w.id, warning_count: w.warningCount }, { status: 201 });
    }, { auth: true, body: t.Object({ user_id: t.String({ maxLength: 64 }), reason: t.String({ maxLength: 5000 }) }) })
    .post("/api/reports", async ({ actor, body }) => {
      const r = await createReport(deps, actor, { communityId: body.community_id, targetType: body.target_type, targetId: body.target_id, reason: body.reason, attachedText: body.attached_text });
      return json({ id: r.id }, { status: 201 });
    }, { auth: true, body: t.Object({ community_id: t.String({ maxLength: 64 }), target_type: t.String({ maxLength: 16 }), target_id: t.String({ maxLength: 64 }), reason: t.String({ maxLength: 5000 }), attached_text: t.Optional(t.Nullable(t.String({ maxLength: 10000 }))) }) })
    .get("/api/communities/:id/reports", async ({ actor, params, query }) => {
      const reports = await listReports(deps, actor, params.id, query.status ?? "open");
      const files = await listReportFiles(deps, reports.map((r) => r.id));
      return {
        reports: reports.map((r) => ({
          id: r.id, target_type: r.targetType, target_id: r.targetId, reason: r.reason, attached_text: r.attachedText, status: r.status, reporter_name: r.reporterName, created_at: r.createdAt.toISOString(), resolved_at: r.resolvedAt?.toISOString() ?? null, escalated_at: r.escalatedAt?.toISOString() ?? null, files: files.get(r.id) ?? [],
        })),
      };
    }, { auth: true, query: queryOf({ status: t.Union([t.Literal("open"), t.Literal("resolved"), t.Literal("dismissed"), t.Literal("all")]) }) })
    // A file the reporter decrypted and attaches to their report (report-files.ts): the raw bytes,
    // read here up to the report's remaining room, never more.
    .post("/api/reports/:id/files", async ({ actor, params, query, request }) => json({ file: await addReportFile(deps, actor, params.id, { name: query.name, type: query.type }, request) }, { status: 201 }), {
      auth: true,
      parse: "none",
      params: t.Object({ id: Uuid }),
      query: t.Object({ name: t.String({ minLength: 1, maxLength: 255 }), type: t.String({ minLength: 3, maxLength: 127 }) }),
      bodyLimit: { bytes: REPORT_FILES_BODY_BUDGET, streamed: true },
    })
    .get("/api/communities/:id/reports/:reportId/files/:fileId", async ({ actor, params }) => readReportFile(deps, actor, params.id, params.reportId, params.fileId), {
      auth: true,
      params: t.Object({ id: Uuid, reportId: Uuid, fileId: Uuid }),
    })
    .post("/api/communities/:id/reports/:reportId/escalate", async ({ actor, params, body }) => {
      await escalateReport(deps, actor, params.id, params.reportId, body?.note);
      return new Response(null, { status: 204 });
    }, { auth: true, params: t.Object({ id: Uuid, reportId: Uuid }), body: t.Optional(t.Object({ note: Reason })) })
    .post("/api/communities/:id/reports/:reportId/:outcome", async ({ actor, params, body }) => {
      await closeReport(deps, actor, params.id, params.reportId, params.outcome === "resolve" ? "resolved" : "dismissed", body?.note);
      return new Response(null, { status: 204 });
    }, { auth: true, params: t.Object({ id: Uuid, reportId: Uuid, outcome: t.Union([t.Literal("resolve"), t.Literal("dismiss")]) }), body: t.Optional(t.Object({ note: Reason })) })
    .get("/api/communities/:id/audit-log", async ({ actor, params, query }) => {
      const access = await accessCommunity(db, actor, params.id, new Date((deps.now ?? Date.now)()));
      requireCan(access, "view_audit_log");
      const entries = await listCommunityAudit(db, params.id, { limit: query.limit ?? 50, before: query.before, action: query.action });
      return {
        entries: entries.map((e) => ({ id: e.id, action: e.action, actor_id: e.actorId, actor_name: e.actorName, target_user_id: e.targetUserId, target_name: e.targetName, target_type: e.targetType, target_id: e.targetId, reason: e.reason, metadata: e.metadata, created_at: e.createdAt.toISOString() })),
      };
    }, { auth: true, query: queryOf({ limit: int(1, 200), before: Uuid, action: text(64) }) });
}
