/**
 * `voice:join`, `voice:leave` and `voice:state` (docs/voice.md), and what happens when the socket
 * holding a seat closes (the grace).
 *
 * A join is decided like any channel action (accessChannel + decideChannelAction "join_voice":
 * 404 CHANNEL_NOT_FOUND for what the user cannot see, TIMED_OUT, ARCHIVED, PERMISSION_DENIED,
 * BLOCKED across a 1:1 DM), then, in one transaction serialised per user and per channel: the
 * 25-seat cap (VOICE_FULL; the user's own seat does not count), the user's seat elsewhere ended
 * (MOVED), the seat created or — same channel — re-bound to this socket with a fresh connId
 * (a reconnect within the grace: no leave/join flicker), and the user's ring in that
 * conversation answered. After COMMIT the permission model is asked once more before anyone is
 * told of the seat, so a kick that committed while the join was running still ends it (the
 * joiner gets the refusal instead of `voice:joined`).
 */
import { runInTransaction } from "../../db/tx.ts";
import { AppError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { MAX_VOICE_PARTICIPANTS, type VoiceJoinFrame, type VoiceLeaveFrame, type VoiceStateFrame } from "../../shared/protocol.ts";
import type { HubActor, HubSocket } from "../../ws/hub.ts";
import { channelTopic, sessionTopic } from "../../ws/topics.ts";
import { accessChannel, decideChannelAction } from "../channels/index.ts";
import { isDeviceRegistered } from "../keys/index.ts";
import { deleteSeatsWithEvents, endReasonOf, endSeats, joinRefusal, publishAll, ringEndedEvent, type Published } from "./end.ts";
import type { Binding, VoiceRuntime } from "./runtime.ts";
import { audienceOf, deleteRings, findSeatByConn, findSeatOf, isConversation, listSeats, lockForJoin, toParticipant, toSeat, type Seat } from "./seats.ts";

export const notInCall = () => new AppError("NOT_IN_CALL", 409, "This connection is not in that call. Join it first (or again: the seat may have ended).");

/** The channel of a frame is an id like any other: "not yours" reads as "not found". */
export async function accessCallChannel(rt: VoiceRuntime, actor: HubActor, channelId: string) {
  try {
    return await accessChannel(rt.deps.database.db, { userId: actor.userId, isOwner: actor.isOwner }, channelId, rt.now());
  } catch (error) {
    if (error instanceof NotFoundError) throw new AppError("CHANNEL_NOT_FOUND", 404, "No such channel.");
    throw error;
  }
}

export async function joinCall(rt: VoiceRuntime, actor: HubActor, socket: HubSocket, frame: VoiceJoinFrame): Promise<void> {
  const db = rt.deps.database.db;
  const channelId = frame.channelId.toLowerCase();
  const access = await accessCallChannel(rt, actor, channelId);
  if (access.community && access.channel.kind !== "voice") throw new InvalidInputError("Only voice channels (and DMs) have calls.", { channelId: "Not a voice channel." }, "NOT_A_VOICE_CHANNEL");
  await decideChannelAction(db, { userId: actor.userId, isOwner: actor.isOwner }, access, "join_voice");
  // The call's events (who joins, leaves, mutes) travel on the channel topic: a seat without them
  // would miss its peers. Conversations' events go to the members' user topics instead.
  if (access.community && !socket.topics().includes(channelTopic(channelId))) {
    throw new AppError("SUBSCRIBE_FIRST", 409, "Subscribe to the channel before joining its call: the call's events travel on it.");
  }
  if (!(await isDeviceRegistered(db, actor.userId, frame.deviceId))) {
    throw new InvalidInputError("That device is not registered for your account: register its keys first.", { deviceId: "Unknown device." }, "UNKNOWN_DEVICE");
  }
  const now = rt.now();
  const connId = crypto.randomUUID();
  // `events` report what the transaction did to other seats and rings (always published);
  // `announce` tells the call about this seat (published only once the seat is re-checked).
  const events: Published[] = [];
  const announce: Published[] = [];
  const { seat, previous, participants } = await runInTransaction({ db, events: rt.deps.events }, async (tx) => {
    await lockForJoin(tx, actor.userId, channelId);
    const previous = await findSeatOf(tx, actor.userId);
    const resumed = previous?.channelId === channelId;
    if (!resumed) {
      const taken = await tx.selectFrom("voice_participants").select((eb) => eb.fn.countAll<string>().as("n")).where("channel_id", "=", channelId).executeTakeFirstOrThrow();
      if (Number(taken.n) >= MAX_VOICE_PARTICIPANTS) throw new AppError("VOICE_FULL", 409, `This call is full: at most ${MAX_VOICE_PARTICIPANTS} people.`);
      if (previous) await deleteSeatsWithEvents(tx, [previous.connId], "MOVED", events);
    }
    const bound = { conn_id: connId, session_id: actor.sessionId, device_id: frame.deviceId, instance_id: rt.instanceId, seen_at: now, disconnected_at: null };
    const row = resumed
      ? await tx
          .updateTable("voice_participants")
          .set({ ...bound, video: false, screen: false, ...(frame.muted !== undefined ? { muted: frame.muted } : {}), ...(frame.deafened !== undefined ? { deafened: frame.deafened } : {}) })
          .where("user_id", "=", actor.userId)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await tx
          .insertInto("voice_participants")
          .values({ ...bound, user_id: actor.userId, channel_id: channelId, muted: frame.muted ?? false, deafened: frame.deafened ?? false, joined_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
    const seat = toSeat(row);
    const audience = await audienceOf(tx, channelId);
    const type = resumed ? "voice:participant_updated" : "voice:participant_joined";
    for (const topic of audience) announce.push([topic, { type, channelId, participant: toParticipant(seat) }]);
    // Taken over from a socket that is still live (another tab or device): that one hangs up.
    if (resumed && previous && previous.disconnectedAt === null) events.push([sessionTopic(previous.sessionId), { type: "voice:ended", channelId, connId: previous.connId, reason: "MOVED" }]);
    if (isConversation(access.channel.kind)) for (const ring of await deleteRings(tx, channelId, [actor.userId])) for (const topic of audience) events.push([topic, ringEndedEvent(ring, "ANSWERED")]);
    return { seat, previous, participants: (await listSeats(tx, channelId)).map(toParticipant) };
  });
  if (previous) rt.forget([previous.connId]);
  publishAll(rt, events);
  // Asked once more after COMMIT: a kick, ban, timeout or permission change that committed while
  // this join was being decided wins. Nobody has heard of the seat yet; the joiner gets the refusal.
  const refusal = await joinRefusal(rt, seat);
  if (refusal) {
    await endSeats(rt, [connId], endReasonOf(refusal));
    throw refusal;
  }
  const binding: Binding = { socket, userId: actor.userId, sessionId: actor.sessionId, channelId, connId, deviceId: frame.deviceId, speaking: false };
  rt.bindings.set(socket, binding);
  // The answer first, then the announcement: the joiner learns its connId before seeing itself join.
  socket.send({ type: "voice:joined", ref: frame.ref, channelId, connId, resumed: previous?.channelId === channelId, participants });
  publishAll(rt, announce);
  rt.deps.log.debug("voice.joined", { userId: actor.userId, channelId });
  // The socket closed while we were joining: its release found no binding to put in grace.
  if (!rt.hub.registry.socketsOf(actor.userId).includes(socket)) await startGrace(rt, binding);
}

export async function leaveCall(rt: VoiceRuntime, actor: HubActor, frame: VoiceLeaveFrame): Promise<{ type: "voice:left"; channelId: string; ref?: string }> {
  const channelId = frame.channelId.toLowerCase();
  // Any socket of the user may hang up (the call's own tab gets voice:ended and stops).
  const seat = await findSeatOf(rt.deps.database.db, actor.userId);
  if (seat && seat.channelId === channelId) await endSeats(rt, [seat.connId], "LEFT");
  return { type: "voice:left", channelId, ref: frame.ref };
}

const FLAGS = ["muted", "deafened", "video", "screen"] as const;

export async function setCallState(rt: VoiceRuntime, actor: HubActor, socket: HubSocket, frame: VoiceStateFrame): Promise<void> {
  const db = rt.deps.database.db;
  const channelId = frame.channelId.toLowerCase();
  const binding = rt.bindings.get(socket);
  if (!binding || binding.channelId !== channelId) throw notInCall();
  const changes: Partial<Record<(typeof FLAGS)[number], boolean>> = {};
  for (const flag of FLAGS) if (frame[flag] !== undefined) changes[flag] = frame[flag];
  let seat: Seat | undefined;
  if (Object.keys(changes).length > 0) {
    const row = await db.updateTable("voice_participants").set(changes).where("conn_id", "=", binding.connId).where("disconnected_at", "is", null).returningAll().executeTakeFirst();
    seat = row ? toSeat(row) : undefined;
  } else {
    seat = await findSeatByConn(db, binding.connId);
  }
  if (!seat) {
    rt.forget([binding.connId]);
    throw notInCall();
  }
  const audience = await audienceOf(db, channelId);
  if (Object.keys(changes).length > 0) for (const topic of audience) rt.publish(topic, { type: "voice:participant_updated", channelId, participant: toParticipant(seat) });
  // Speaking is ephemeral (never stored) and published only when it changes.
  if (frame.speaking !== undefined && frame.speaking !== binding.speaking) {
    binding.speaking = frame.speaking;
    for (const topic of audience) rt.publish(topic, { type: "voice:speaking", channelId, userId: actor.userId, connId: binding.connId, speaking: frame.speaking });
  }
}

/**
 * The socket holding a seat is gone: the seat stays (shown `connected: false`) for the grace,
 * then is freed unless a `voice:join` re-bound it meanwhile (which changes its connId).
 */
export async function startGrace(rt: VoiceRuntime, binding: Binding): Promise<void> {
  rt.bindings.delete(binding.socket);
  const row = await rt.deps.database.db
    .updateTable("voice_participants")
    .set({ disconnected_at: rt.now() })
    .where("conn_id", "=", binding.connId)
    .where("disconnected_at", "is", null)
    .returningAll()
    .executeTakeFirst();
  if (!row) return;
  const seat = toSeat(row);
  for (const topic of await audienceOf(rt.deps.database.db, seat.channelId)) rt.publish(topic, { type: "voice:participant_updated", channelId: seat.channelId, participant: toParticipant(seat) });
  rt.schedule(rt.graceTimers, seat.connId, rt.options.graceMs, () => endSeats(rt, [seat.connId], "DISCONNECTED"));
}
