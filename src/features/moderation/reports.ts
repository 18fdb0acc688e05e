/**
 * Reports: any member reports a message or a user of a community, with a reason and optionally
 * the decrypted text they saw (the server cannot read messages, so that text is the reporter's
 * claim and is labelled as such). Moderators of that community work the queue.
 * A report names only what the reporter can see: a message they can read in that community, a
 * user they share a community or conversation with (or can otherwise see, dms' isVisibleTo).
 * Anything else is 404 exactly like an unknown id, so reports do not probe for messages or users.
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessCommunity, isUuid, requireCan } from "../permissions/index.ts";
import { insertCommunityAudit } from "../communities/index.ts";
import { dbOf, mutate, nowOf, optionalText, requireText, type ActorLike } from "../communities/index.ts";
import { accessMessage } from "../messages/index.ts";
import { isVisibleTo, relationTo } from "../dms/index.ts";

export type ReportInput = { communityId: string; targetType: string; targetId: string; reason: string; attachedText?: string | null };

export async function createReport(deps: AppDeps, actor: ActorLike, input: ReportInput) {
  if (input.targetType !== "message" && input.targetType !== "user") throw new InvalidInputError("target_type must be message or user.", { target_type: "Choose message or user." });
  if (!isUuid(input.targetId)) throw new InvalidInputError("target_id must be an id.", { target_id: "Invalid id." });
  const reason = requireText("reason", "Reason", input.reason, 1, 2000);
  const attached = optionalText("attached_text", "Attached text", input.attachedText, 4000);
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const { community } = await accessCommunity(tx, actor, input.communityId, now);
    let targetId: string;
    if (input.targetType === "user") {
      const user = await relationTo(tx, actor, input.targetId);
      if (!user || !isVisibleTo(user, actor)) throw new NotFoundError("No such user.");
      targetId = user.id;
    } else {
      // accessMessage's own 404 for unreadable messages; a readable one elsewhere is not this
      // community's moderators' business and reads the same.
      const { channel, message } = await accessMessage(tx, actor, input.targetId, now);
      if (channel.communityId !== community.id) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
      targetId = message.id;
    }
    const id = Bun.randomUUIDv7();
    await tx.insertInto("reports").values({ id, community_id: community.id, reporter_id: actor.userId, target_type: input.targetType, target_id: targetId, reason, attached_text: attached, created_at: now }).execute();
    // Moderators' queues refresh; the reported user is never told who reported them.
    outbox.push(`community:${community.id}:moderators`, { type: "report:created", community_id: community.id, report_id: id });
    return { id };
  });
}

export type ReportView = {
  id: string;
  targetType: string;
  targetId: string;
  targetName: string | null;
  reason: string;
  attachedText: string | null;
  status: string;
  reporterName: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
  resolutionNote: string | null;
  /** Handed to the instance's administrators (escalations.ts). */
  escalatedAt: Date | null;
};

export async function listReports(deps: AppDeps, actor: ActorLike, communityId: string, status: string = "open"): Promise<ReportView[]> {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  requireCan(access, "review_reports");
  let q = db
    .selectFrom("reports as r")
    .leftJoin("users as rep", "rep.id", "r.reporter_id")
    .leftJoin("users as t", (j) => j.onRef("t.id", "=", "r.target_id").on("r.target_type", "=", "user"))
    .select(["r.id", "r.target_type", "r.target_id", "t.display_name as target_name", "r.reason", "r.attached_text", "r.status", "rep.display_name as reporter_name", "r.created_at", "r.resolved_at", "r.resolution_note", "r.escalated_at"])
    .where("r.community_id", "=", communityId)
    .orderBy("r.created_at", "desc")
    .limit(200);
  if (status !== "all") q = q.where("r.status", "=", status);
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, targetType: r.target_type, targetId: r.target_id, targetName: r.target_name, reason: r.reason, attachedText: r.attached_text, status: r.status, reporterName: r.reporter_name, createdAt: r.created_at, resolvedAt: r.resolved_at, resolutionNote: r.resolution_note, escalatedAt: r.escalated_at }));
}

export async function closeReport(deps: AppDeps, actor: ActorLike, communityId: string, reportId: string, outcome: "resolved" | "dismissed", note?: string | null) {
  const resolutionNote = optionalText("note", "Note", note, 2000);
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "review_reports");
    const report = isUuid(reportId) ? await tx.selectFrom("reports").select(["id", "status"]).where("id", "=", reportId).where("community_id", "=", communityId).executeTakeFirst() : undefined;
    if (!report) throw new NotFoundError("No such report.");
    if (report.status !== "open") throw new ConflictError("This report is already closed.", "REPORT_CLOSED");
    await tx.updateTable("reports").set({ status: outcome, resolved_by: actor.userId, resolved_at: now, resolution_note: resolutionNote }).where("id", "=", reportId).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: outcome === "resolved" ? "report_resolved" : "report_dismissed", targetType: "report", targetId: reportId, reason: resolutionNote, at: now });
  });
}
