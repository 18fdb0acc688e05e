/**
 * Ringing in DMs and group DMs (docs/voice.md, "Calls in conversations"). A participant of a
 * conversation's call sends `voice:ring`: each named member (default: every member not already
 * in the call) gets `voice:ring {channelId, callerId, expiresAt}` on `user:<id>`, so every one
 * of their open tabs rings; a callee with no open tab gets a push (notifications' notifyRing). It stops for all of them at once with `voice:ring_ended {reason}` on
 * the conversation's audience: ANSWERED (they joined from any device), DECLINED (`voice:decline`
 * from any device), TIMEOUT (RING_TIMEOUT_MS), CANCELLED (the call emptied).
 *
 * Nobody is rung across a block (either direction): such a callee is left out of the answer's
 * `userIds` and gets nothing. Rings are rate-limited per caller. The call record ("missed call",
 * "call, 12 min") is the clients' business, inside the encrypted conversation.
 */
import { runInTransaction } from "../../db/tx.ts";
import { InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import type { Limit } from "../../http/rate-limit.ts";
import type { VoiceDeclineFrame, VoiceRingFrame } from "../../shared/protocol.ts";
import type { HubActor, HubSocket } from "../../ws/hub.ts";
import { userTopic } from "../../ws/topics.ts";
import { isBlockedEitherWay } from "../dms/index.ts";
import { notifyRing } from "../notifications/index.ts";
import { publishAll, ringEndedEvent, type Published } from "./end.ts";
import type { VoiceRuntime } from "./runtime.ts";
import { notInCall } from "./seat-frames.ts";
import { audienceOf, deleteExpiredRings, deleteRings, findCallChannel, isConversation, listConversationMembers, listSeats, upsertRing } from "./seats.ts";

/** Per caller: a burst of 5 ring frames, then one every 5 s. */
export const RING_RATE: Limit = { ratePerSec: 0.2, burst: 5 };

export type Ringing = { type: "voice:ringing"; channelId: string; userIds: string[]; expiresAt: string; ref?: string };

export async function ring(rt: VoiceRuntime, actor: HubActor, socket: HubSocket, frame: VoiceRingFrame): Promise<Ringing> {
  const db = rt.deps.database.db;
  const channelId = frame.channelId.toLowerCase();
  const binding = rt.bindings.get(socket);
  if (!binding || binding.channelId !== channelId) throw notInCall();
  const seats = await listSeats(db, channelId);
  if (!seats.some((s) => s.connId === binding.connId)) throw notInCall();
  const channel = await findCallChannel(db, channelId);
  if (!channel || !isConversation(channel.kind)) throw new InvalidInputError("Only DM and group DM calls ring; people join a voice channel's call themselves.", { channelId: "Not a conversation." }, "RING_NOT_ALLOWED");
  const members = await listConversationMembers(db, channelId);
  const named = frame.userIds?.map((id) => id.toLowerCase());
  if (named?.some((id) => !members.includes(id) || id === actor.userId)) throw new NotFoundError("No such person in this conversation.", "USER_NOT_FOUND");
  const limited = await rt.rateLimits.take(`voice-ring:${actor.userId}`, RING_RATE, rt.now().getTime());
  if (!limited.allowed) throw new RateLimitedError(limited.retryAfterSecs, "Too many rings. Wait a moment before ringing again.");
  const seated = new Set(seats.map((s) => s.userId));
  const callees: string[] = [];
  for (const id of named ?? members) {
    if (id === actor.userId || seated.has(id)) continue;
    if (await isBlockedEitherWay(db, actor.userId, id)) continue;
    callees.push(id);
  }
  const startedAt = rt.now();
  const expiresAt = new Date(startedAt.getTime() + rt.options.ringTimeoutMs);
  await runInTransaction({ db, events: rt.deps.events }, async (tx) => {
    for (const calleeId of callees) await upsertRing(tx, { channelId, calleeId, callerId: actor.userId, startedAt, expiresAt });
  });
  for (const calleeId of callees) {
    rt.publish(userTopic(calleeId), { type: "voice:ring", channelId, callerId: actor.userId, expiresAt: expiresAt.toISOString() });
    rt.schedule(rt.ringTimers, `${channelId}:${calleeId}`, rt.options.ringTimeoutMs, () => expireRings(rt, { channelId, calleeId }));
  }
  // A callee with no open tab hears nothing from the frame: their devices get a push instead.
  notifyRing(rt.deps, { channelId, callerId: actor.userId, calleeIds: callees, expiresAt });
  return { type: "voice:ringing", channelId, userIds: callees, expiresAt: expiresAt.toISOString(), ref: frame.ref };
}

/** Stops the user's ring in this conversation on all their devices, and tells the caller. */
export async function decline(rt: VoiceRuntime, actor: HubActor, frame: VoiceDeclineFrame): Promise<void> {
  const db = rt.deps.database.db;
  const channelId = frame.channelId.toLowerCase();
  // Only the decliner's own ring can go: nothing to check, nothing learned about other channels.
  const rings = await deleteRings(db, channelId, [actor.userId]);
  if (rings.length === 0) return;
  clearTimeout(rt.ringTimers.get(`${channelId}:${actor.userId}`));
  rt.ringTimers.delete(`${channelId}:${actor.userId}`);
  const audience = await audienceOf(db, channelId);
  publishAll(rt, rings.flatMap((r) => audience.map((topic): Published => [topic, ringEndedEvent(r, "DECLINED")])));
}

/**
 * Rings past their expiry (one, from its timer; all, from the sweep): ended as TIMEOUT. A timer
 * may fire a hair before the stored expiry; a ring re-rung meanwhile got a new timer anyway.
 */
export async function expireRings(rt: VoiceRuntime, only?: { channelId: string; calleeId: string }): Promise<void> {
  const db = rt.deps.database.db;
  const rings = await deleteExpiredRings(db, new Date(rt.now().getTime() + (only ? 1_000 : 0)), only);
  for (const ring of rings) {
    const audience = await audienceOf(db, ring.channelId);
    publishAll(rt, audience.map((topic): Published => [topic, ringEndedEvent(ring, "TIMEOUT")]));
  }
}
