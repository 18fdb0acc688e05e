/**
 * Ending seats, the one path every way out of a call takes (leave, grace expiry, kick, ban,
 * timeout, lost permission, revoked session, crashed instance): delete exactly those bindings,
 * tell the call's audience `voice:participant_left`, tell the seat's own session `voice:ended`
 * (its client hangs up: every peer connection closed), and stop the rings of a conversation
 * whose call is now empty. After COMMIT, through the fan-out: every instance delivers.
 *
 * `revalidateSeats` asks the permission model again for seats (after a join, on role and access
 * changes, and periodically as a safety net) and ends those it refuses.
 */
import { runInTransaction } from "../../db/tx.ts";
import { AppError } from "../../errors.ts";
import type { VoiceEndReason } from "../../shared/protocol.ts";
import { sessionTopic } from "../../ws/topics.ts";
import { accessChannel, decideChannelAction } from "../channels/index.ts";
import type { VoiceRuntime } from "./runtime.ts";
import { audienceOf, deleteRings, deleteSeats, type Ring, type Seat } from "./seats.ts";

export type Published = [topic: string, event: { type: string } & Record<string, unknown>];

export function ringEndedEvent(ring: Ring, reason: "ANSWERED" | "DECLINED" | "TIMEOUT" | "CANCELLED"): Published[1] {
  return { type: "voice:ring_ended", channelId: ring.channelId, calleeId: ring.calleeId, callerId: ring.callerId, reason };
}

/**
 * Inside a transaction: deletes the seats, and the rings of conversations left empty; returns
 * the seats deleted and pushes the events to publish after COMMIT into `events`.
 */
export async function deleteSeatsWithEvents(tx: Parameters<typeof deleteSeats>[0], connIds: readonly string[], reason: VoiceEndReason, events: Published[]): Promise<Seat[]> {
  const seats = await deleteSeats(tx, connIds);
  for (const channelId of new Set(seats.map((s) => s.channelId))) {
    const audience = await audienceOf(tx, channelId);
    for (const seat of seats.filter((s) => s.channelId === channelId)) {
      for (const topic of audience) events.push([topic, { type: "voice:participant_left", channelId, userId: seat.userId, connId: seat.connId, reason }]);
      events.push([sessionTopic(seat.sessionId), { type: "voice:ended", channelId, connId: seat.connId, reason }]);
    }
    const left = await tx.selectFrom("voice_participants").select("user_id").where("channel_id", "=", channelId).limit(1).executeTakeFirst();
    if (!left) for (const ring of await deleteRings(tx, channelId)) for (const topic of audience) events.push([topic, ringEndedEvent(ring, "CANCELLED")]);
  }
  return seats;
}

export function publishAll(rt: VoiceRuntime, events: readonly Published[]): void {
  for (const [topic, event] of events) rt.publish(topic, event);
}

/** Ends these bindings (a seat re-bound meanwhile has another connId and is left alone). */
export async function endSeats(rt: VoiceRuntime, connIds: readonly string[], reason: VoiceEndReason): Promise<Seat[]> {
  if (connIds.length === 0) return [];
  const events: Published[] = [];
  const seats = await runInTransaction({ db: rt.deps.database.db, events: rt.deps.events }, (tx) => deleteSeatsWithEvents(tx, connIds, reason, events));
  rt.forget(seats.map((s) => s.connId));
  publishAll(rt, events);
  for (const seat of seats) rt.deps.log.debug("voice.left", { userId: seat.userId, channelId: seat.channelId, reason });
  return seats;
}

/**
 * Why `seat`'s user may no longer sit in its call — the error a join would get now (a voice
 * channel or a conversation, view + join_voice, no timeout, not archived, no block across a 1:1
 * DM, not suspended) — or null when the seat stands.
 */
export async function joinRefusal(rt: VoiceRuntime, seat: Pick<Seat, "userId" | "channelId">): Promise<AppError | null> {
  const db = rt.deps.database.db;
  const user = await db.selectFrom("users").select(["is_owner", "suspended_at"]).where("id", "=", seat.userId).executeTakeFirst();
  if (!user || user.suspended_at) return new AppError("SESSION_ENDED", 401, "This session has ended. Please sign in again.");
  const actor = { userId: seat.userId, isOwner: user.is_owner };
  try {
    const access = await accessChannel(db, actor, seat.channelId, rt.now());
    if (access.community && access.channel.kind !== "voice") return new AppError("NOT_A_VOICE_CHANNEL", 400, "Only voice channels (and DMs) have calls.");
    await decideChannelAction(db, actor, access, "join_voice");
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return error.status === 404 ? new AppError("CHANNEL_NOT_FOUND", 404, "No such channel.") : error;
  }
}

/** The end reason a refusal gives a seat. */
export function endReasonOf(refusal: AppError): VoiceEndReason {
  if (refusal.code === "TIMED_OUT") return "TIMED_OUT";
  if (refusal.code === "SESSION_ENDED") return "SESSION_ENDED";
  return "ACCESS_CHANGED";
}

export async function revalidateSeats(rt: VoiceRuntime, seats: readonly Seat[]): Promise<Seat[]> {
  const byReason = new Map<VoiceEndReason, string[]>();
  for (const seat of seats) {
    const refusal = await joinRefusal(rt, seat);
    if (!refusal) continue;
    const reason = endReasonOf(refusal);
    byReason.set(reason, [...(byReason.get(reason) ?? []), seat.connId]);
  }
  const ended: Seat[] = [];
  for (const [reason, connIds] of byReason) ended.push(...(await endSeats(rt, connIds, reason)));
  return ended;
}
