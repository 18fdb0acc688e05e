/**
 * Escalated reports (docs/admin.md "Reports"): a community's moderators (review_reports) hand a
 * report they cannot settle — illegal content, a user who harms several communities — to the
 * instance's administrators, with a note. The community's own status is left as it is; the
 * administrators (power `users`) record their outcome beside it. Both sides are audited: the
 * escalation in the community's log, the administrators' outcome in the instance's.
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, NotFoundError } from "../../errors.ts";
import { accessCommunity, isUuid, requireCan } from "../permissions/index.ts";
import { dbOf, insertCommunityAudit, mutate, nowOf, optionalText, type ActorLike } from "../communities/index.ts";
import { insertAuditEntry, type RequestMeta } from "../auth/index.ts";

export async function escalateReport(deps: AppDeps, actor: ActorLike, communityId: string, reportId: string, note?: string | null): Promise<void> {
  const escalationNote = optionalText("note", "Note", note, 2000);
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "review_reports");
    const report = isUuid(reportId) ? await tx.selectFrom("reports").select(["id", "escalated_at"]).where("id", "=", reportId).where("community_id", "=", communityId).forUpdate().executeTakeFirst() : undefined;
    if (!report) throw new NotFoundError("No such report.");
    if (report.escalated_at) throw new ConflictError("This report was already escalated to the instance's administrators.", "REPORT_ESCALATED");
    await tx.updateTable("reports").set({ escalated_at: now, escalated_by: actor.userId, escalation_note: escalationNote, admin_status: "open" }).where("id", "=", reportId).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "report_escalated", targetType: "report", targetId: reportId, reason: escalationNote, at: now });
  });
}

export const ESCALATION_FILTERS = ["open", "closed", "all"] as const;
export type EscalationFilter = (typeof ESCALATION_FILTERS)[number];

export type EscalatedReport = {
  id: string;
  communityId: string | null;
  communityName: string | null;
  targetType: string;
  targetId: string;
  targetName: string | null;
  reason: string;
  attachedText: string | null;
  reporterName: string | null;
  createdAt: Date;
  communityStatus: string;
  escalatedAt: Date;
  escalatedByName: string | null;
  escalationNote: string | null;
  adminStatus: string;
  adminNote: string | null;
  adminClosedAt: Date | null;
  adminClosedByName: string | null;
};

/** The instance's queue, newest escalation first (at most 200). */
export async function listEscalatedReports(deps: AppDeps, filter: EscalationFilter = "open"): Promise<EscalatedReport[]> {
  let q = dbOf(deps)
    .selectFrom("reports as r")
    .leftJoin("communities as c", "c.id", "r.community_id")
    .leftJoin("users as rep", "rep.id", "r.reporter_id")
    .leftJoin("users as esc", "esc.id", "r.escalated_by")
    .leftJoin("users as adm", "adm.id", "r.admin_closed_by")
    .leftJoin("users as t", (j) => j.onRef("t.id", "=", "r.target_id").on("r.target_type", "=", "user"))
    .select([
      "r.id", "r.community_id", "c.name as community_name", "r.target_type", "r.target_id", "t.display_name as target_name", "r.reason", "r.attached_text",
      "rep.display_name as reporter_name", "r.created_at", "r.status", "r.escalated_at", "esc.display_name as escalated_by_name", "r.escalation_note",
      "r.admin_status", "r.admin_note", "r.admin_closed_at", "adm.display_name as admin_closed_by_name",
    ])
    .where("r.escalated_at", "is not", null)
    .orderBy("r.escalated_at", "desc")
    .limit(200);
  if (filter === "open") q = q.where("r.admin_status", "=", "open");
  if (filter === "closed") q = q.where("r.admin_status", "in", ["resolved", "dismissed"]);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id, communityId: r.community_id, communityName: r.community_name, targetType: r.target_type, targetId: r.target_id, targetName: r.target_name, reason: r.reason,
    attachedText: r.attached_text, reporterName: r.reporter_name, createdAt: r.created_at, communityStatus: r.status, escalatedAt: r.escalated_at!, escalatedByName: r.escalated_by_name,
    escalationNote: r.escalation_note, adminStatus: r.admin_status ?? "open", adminNote: r.admin_note, adminClosedAt: r.admin_closed_at, adminClosedByName: r.admin_closed_by_name,
  }));
}

/** The administrators' outcome: 404 for a report that was never escalated, 409 once closed. */
export async function closeEscalatedReport(deps: AppDeps, actor: ActorLike, reportId: string, outcome: "resolved" | "dismissed", note: string | null | undefined, meta: RequestMeta): Promise<void> {
  const adminNote = optionalText("note", "Note", note, 2000);
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const report = isUuid(reportId) ? await tx.selectFrom("reports").select(["id", "admin_status", "community_id"]).where("id", "=", reportId).where("escalated_at", "is not", null).forUpdate().executeTakeFirst() : undefined;
    if (!report) throw new NotFoundError("No such escalated report.", "REPORT_NOT_FOUND");
    if (report.admin_status !== "open") throw new ConflictError("This report is already closed by an administrator.", "REPORT_CLOSED");
    await tx.updateTable("reports").set({ admin_status: outcome, admin_closed_by: actor.userId, admin_closed_at: now, admin_note: adminNote }).where("id", "=", reportId).execute();
    await insertAuditEntry(tx, { actorId: actor.userId, action: "report_closed_by_admin", targetType: "report", targetId: reportId, metadata: { outcome, community_id: report.community_id, note: adminNote }, at: now, meta });
  });
}
