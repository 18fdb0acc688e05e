/**
 * Kick, ban, unban, timeout, warnings. Each is one transaction that checks `can()` against the
 * target's rank, writes the community audit log, and queues the membership change so the hub
 * cuts the user's sockets off at once (reference §9: kicks that did not).
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessCommunity, accessCommunityForChange, isUuid, requireCan, requireChange } from "../permissions/index.ts";
import { findMembership } from "../permissions/index.ts";
import { insertCommunityAudit, loadTarget, queueMembershipChange, removeMembershipRows } from "../communities/index.ts";
import { dbOf, mutate, nowOf, optionalText, requireIntRange, requireText, type ActorLike } from "../communities/index.ts";
import { listCommunityChannelIds } from "../communities/index.ts";
import type { Executor } from "../../db/tx.ts";

export const MIN_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 28 * 24 * 3600;
export const MAX_BAN_DELETE_DAYS = 7;

/** For the messaging and voice features: a timed-out member cannot send, react or join voice. */
export async function isTimedOut(db: Executor, userId: string, communityId: string, now = new Date()): Promise<boolean> {
  const row = await db.selectFrom("community_timeouts").select("expires_at").where("community_id", "=", communityId).where("user_id", "=", userId).where("expires_at", ">", now).executeTakeFirst();
  return row !== undefined;
}

export async function kickMember(deps: AppDeps, actor: ActorLike, communityId: string, userId: string, input: { reason?: string | null }) {
  const reason = optionalText("reason", "Reason", input.reason, 500);
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunityForChange(tx, actor, communityId, now);
    const target = await loadTarget(tx, communityId, userId, now);
    requireChange(access, { kind: "act_on_member", action: "kick_member", target });
    const channelIds = await removeMembershipRows(tx, communityId, userId);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "member_kicked", targetUserId: userId, reason, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId, kind: "kicked", channelIds });
  });
}

/**
 * Bans work on non-members too (pre-emptive bans), but never on someone who outranks the actor.
 * `deleteMessageDays` is recorded in message_purge_requests: the messaging feature deletes them
 * (see `pendingMessagePurges`).
 */
export async function banUser(deps: AppDeps, actor: ActorLike, communityId: string, userId: string, input: { reason?: string | null; deleteMessageDays?: number }) {
  const reason = optionalText("reason", "Reason", input.reason, 500);
  const days = requireIntRange("delete_message_days", "Days of messages to delete", input.deleteMessageDays ?? 0, 0, MAX_BAN_DELETE_DAYS, " days");
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunityForChange(tx, actor, communityId, now);
    const user = isUuid(userId) ? await tx.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst() : undefined;
    if (!user) throw new NotFoundError("No such user.");
    const member = (await findMembership(tx, communityId, userId, now)) ?? null;
    requireChange(access, { kind: "act_on_member", action: "ban_member", target: { userId, member } });
    await tx
      .insertInto("community_bans")
      .values({ community_id: communityId, user_id: userId, reason, banned_by: actor.userId, created_at: now })
      .onConflict((oc) => oc.columns(["community_id", "user_id"]).doUpdateSet({ reason, banned_by: actor.userId, created_at: now }))
      .execute();
    const channelIds = member ? await removeMembershipRows(tx, communityId, userId) : await listCommunityChannelIds(tx, communityId);
    if (days > 0) {
      await tx.insertInto("message_purge_requests").values({ id: Bun.randomUUIDv7(), community_id: communityId, user_id: userId, days, requested_by: actor.userId, created_at: now }).execute();
    }
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "member_banned", targetUserId: userId, reason, metadata: { delete_message_days: days }, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId, kind: "banned", channelIds });
  });
}

export async function unbanUser(deps: AppDeps, actor: ActorLike, communityId: string, userId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunityForChange(tx, actor, communityId, now);
    requireChange(access, { kind: "act_on_member", action: "ban_member", target: { userId, member: null } });
    const removed = isUuid(userId) ? await tx.deleteFrom("community_bans").where("community_id", "=", communityId).where("user_id", "=", userId).returning("user_id").executeTakeFirst() : undefined;
    if (!removed) throw new NotFoundError("That user is not banned here.");
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "member_unbanned", targetUserId: userId, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId, kind: "unbanned" });
  });
}

export async function listBans(deps: AppDeps, actor: ActorLike, communityId: string) {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  requireCan(access, "ban_member", { target: { userId: "", member: null } });
  const rows = await db
    .selectFrom("community_bans as b")
    .innerJoin("users as u", "u.id", "b.user_id")
    .leftJoin("users as by", "by.id", "b.banned_by")
    .select(["b.user_id", "u.username", "u.display_name", "b.reason", "b.created_at", "by.display_name as banned_by_name"])
    .where("b.community_id", "=", communityId)
    .orderBy("b.created_at", "desc")
    .limit(500)
    .execute();
  return rows.map((r) => ({ userId: r.user_id, username: r.username, displayName: r.display_name, reason: r.reason, createdAt: r.created_at, bannedByName: r.banned_by_name }));
}

export async function timeoutMember(deps: AppDeps, actor: ActorLike, communityId: string, userId: string, input: { durationSeconds: number; reason?: string | null }) {
  const seconds = requireIntRange("duration_seconds", "Timeout", input.durationSeconds, MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, " seconds (1 minute to 28 days)");
  const reason = optionalText("reason", "Reason", input.reason, 500);
  const now = nowOf(deps);
  const until = new Date(now.getTime() + seconds * 1000);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunityForChange(tx, actor, communityId, now);
    const target = await loadTarget(tx, communityId, userId, now);
    requireChange(access, { kind: "act_on_member", action: "timeout_member", target });
    await tx
      .insertInto("community_timeouts")
      .values({ community_id: communityId, user_id: userId, expires_at: until, reason, created_by: actor.userId, created_at: now })
      .onConflict((oc) => oc.columns(["community_id", "user_id"]).doUpdateSet({ expires_at: until, reason, created_by: actor.userId, created_at: now }))
      .execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "member_timed_out", targetUserId: userId, reason, metadata: { duration_seconds: seconds, until: until.toISOString() }, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId, kind: "timed_out", until: until.toISOString(), channelIds: await listCommunityChannelIds(tx, communityId) });
  });
  return { until };
}

export async function removeTimeout(deps: AppDeps, actor: ActorLike, communityId: string, userId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunityForChange(tx, actor, communityId, now);
    const target = await loadTarget(tx, communityId, userId, now);
    requireChange(access, { kind: "act_on_member", action: "timeout_member", target });
    const removed = await tx.deleteFrom("community_timeouts").where("community_id", "=", communityId).where("user_id", "=", userId).returning("user_id").executeTakeFirst();
    if (!removed) throw new NotFoundError("That member is not timed out.");
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "timeout_removed", targetUserId: userId, at: now });
    queueMembershipChange(deps, outbox, { userId, communityId, kind: "timeout_removed" });
  });
}

export async function listTimeouts(deps: AppDeps, actor: ActorLike, communityId: string) {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await accessCommunity(db, actor, communityId, now);
  requireCan(access, "timeout_member", { target: { userId: "", member: null } });
  const rows = await db
    .selectFrom("community_timeouts as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .select(["t.user_id", "u.display_name", "t.expires_at", "t.reason"])
    .where("t.community_id", "=", communityId)
    .where("t.expires_at", ">", now)
    .orderBy("t.expires_at")
    .execute();
  return rows.map((r) => ({ userId: r.user_id, displayName: r.display_name, expiresAt: r.expires_at, reason: r.reason }));
}

export async function warnMember(deps: AppDeps, actor: ActorLike, communityId: string, userId: string, input: { reason: string }) {
  const reason = requireText("reason", "Reason", input.reason, 1, 1000);
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const access = await accessCommunityForChange(tx, actor, communityId, now);
    const target = await loadTarget(tx, communityId, userId, now);
    requireChange(access, { kind: "act_on_member", action: "warn_member", target });
    const id = Bun.randomUUIDv7();
    await tx.insertInto("community_warnings").values({ id, community_id: communityId, user_id: userId, reason, created_by: actor.userId, created_at: now }).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "member_warned", targetUserId: userId, reason, at: now });
    const count = await tx.selectFrom("community_warnings").select((eb) => eb.fn.countAll<number>().as("n")).where("community_id", "=", communityId).where("user_id", "=", userId).executeTakeFirstOrThrow();
    // Only the warned user is told, with the reason; the community is not.
    outbox.push(`user:${userId}`, { type: "member:warned", community_id: communityId, reason, warning_count: Number(count.n) });
    return { id, warningCount: Number(count.n) };
  });
}

/** Warning history: moderators see anyone's; a member sees their own. */
export async function listWarnings(deps: AppDeps, actor: ActorLike, communityId: string, userId: string | undefined) {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await accessCommunity(db, actor, communityId, now);
  const subjectId = userId ?? actor.userId;
  if (subjectId !== actor.userId || userId === undefined) {
    if (!isUuid(subjectId)) throw new InvalidInputError("user_id must be a user id.", { user_id: "Invalid id." });
    requireCan(access, "view_audit_log", {}, "Only moderators can read other members' warnings.");
  }
  let q = db
    .selectFrom("community_warnings as w")
    .innerJoin("users as u", "u.id", "w.user_id")
    .leftJoin("users as by", "by.id", "w.created_by")
    .select(["w.id", "w.user_id", "u.display_name", "w.reason", "w.created_at", "by.display_name as by_name"])
    .where("w.community_id", "=", communityId)
    .orderBy("w.created_at", "desc")
    .limit(500);
  if (userId !== undefined) q = q.where("w.user_id", "=", subjectId);
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, userId: r.user_id, displayName: r.display_name, reason: r.reason, createdAt: r.created_at, createdByName: r.by_name }));
}

/** The named hook for the messaging feature: ban-time purge requests not yet carried out. */
export async function pendingMessagePurges(db: Executor) {
  return db.selectFrom("message_purge_requests").select(["id", "community_id", "user_id", "days", "created_at"]).where("processed_at", "is", null).orderBy("created_at").execute();
}

export async function markMessagePurgeDone(db: Executor, id: string, at = new Date()) {
  await db.updateTable("message_purge_requests").set({ processed_at: at }).where("id", "=", id).execute();
}
