/**
 * The voice tables (migrations/0011_voice.sql) as the voice feature reads and writes them:
 * `voice_participants` (one seat per user) and `voice_rings`. Row types stay here; the rest of
 * the feature sees Seat and VoiceParticipant.
 */
import { sql } from "kysely";
import type { Executor } from "../../db/tx.ts";
import type { VoiceParticipant } from "../../shared/protocol.ts";
import { channelTopic, userTopic } from "../../ws/topics.ts";

export type Seat = {
  userId: string;
  channelId: string;
  connId: string;
  sessionId: string;
  deviceId: string;
  instanceId: string;
  muted: boolean;
  deafened: boolean;
  video: boolean;
  screen: boolean;
  joinedAt: Date;
  seenAt: Date;
  disconnectedAt: Date | null;
};

type SeatRow = {
  user_id: string;
  channel_id: string;
  conn_id: string;
  session_id: string;
  device_id: string;
  instance_id: string;
  muted: boolean;
  deafened: boolean;
  video: boolean;
  screen: boolean;
  joined_at: Date;
  seen_at: Date;
  disconnected_at: Date | null;
};

export function toSeat(r: SeatRow): Seat {
  return {
    userId: r.user_id,
    channelId: r.channel_id,
    connId: r.conn_id,
    sessionId: r.session_id,
    deviceId: r.device_id,
    instanceId: r.instance_id,
    muted: r.muted,
    deafened: r.deafened,
    video: r.video,
    screen: r.screen,
    joinedAt: new Date(r.joined_at),
    seenAt: new Date(r.seen_at),
    disconnectedAt: r.disconnected_at ? new Date(r.disconnected_at) : null,
  };
}

/** What every viewer of the channel sees of a seat (no session, no instance). */
export function toParticipant(seat: Seat): VoiceParticipant {
  return {
    userId: seat.userId,
    connId: seat.connId,
    deviceId: seat.deviceId,
    muted: seat.muted,
    deafened: seat.deafened,
    video: seat.video,
    screen: seat.screen,
    joinedAt: seat.joinedAt.toISOString(),
    connected: seat.disconnectedAt === null,
  };
}

export async function listSeats(db: Executor, channelId: string): Promise<Seat[]> {
  const rows = await db.selectFrom("voice_participants").selectAll().where("channel_id", "=", channelId).orderBy("joined_at").orderBy("user_id").execute();
  return rows.map(toSeat);
}

export async function listSeatsIn(db: Executor, channelIds: readonly string[]): Promise<Seat[]> {
  if (channelIds.length === 0) return [];
  const rows = await db.selectFrom("voice_participants").selectAll().where("channel_id", "in", [...channelIds]).orderBy("joined_at").orderBy("user_id").execute();
  return rows.map(toSeat);
}

export async function findSeatOf(db: Executor, userId: string): Promise<Seat | undefined> {
  const row = await db.selectFrom("voice_participants").selectAll().where("user_id", "=", userId).executeTakeFirst();
  return row ? toSeat(row) : undefined;
}

export async function findSeatByConn(db: Executor, connId: string): Promise<Seat | undefined> {
  const row = await db.selectFrom("voice_participants").selectAll().where("conn_id", "=", connId).executeTakeFirst();
  return row ? toSeat(row) : undefined;
}

/** Deletes exactly these bindings (a re-bound seat has another conn_id and is left alone). */
export async function deleteSeats(db: Executor, connIds: readonly string[]): Promise<Seat[]> {
  if (connIds.length === 0) return [];
  const rows = await db.deleteFrom("voice_participants").where("conn_id", "in", [...connIds]).returningAll().execute();
  return rows.map(toSeat);
}

/** Serialises joins per user and per channel inside the caller's transaction (the 25-seat cap, one seat per user). */
export async function lockForJoin(tx: Executor, userId: string, channelId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`voice-user:${userId}`}))`.execute(tx);
  await sql`select pg_advisory_xact_lock(hashtext(${`voice-channel:${channelId}`}))`.execute(tx);
}

export type CallChannel = { id: string; kind: string; communityId: string | null };

export async function findCallChannel(db: Executor, channelId: string): Promise<CallChannel | undefined> {
  const row = await db.selectFrom("channels").select(["id", "kind", "community_id"]).where("id", "=", channelId).executeTakeFirst();
  return row ? { id: row.id, kind: row.kind, communityId: row.community_id } : undefined;
}

export const isConversation = (kind: string) => kind === "dm" || kind === "group_dm";

export async function listConversationMembers(db: Executor, channelId: string): Promise<string[]> {
  const rows = await db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channelId).orderBy("user_id").execute();
  return rows.map((r) => r.user_id);
}

/**
 * Where a call's events go: a community channel's topic (everyone following it may see who is
 * in the call: following needs view_channel), or the user topics of a DM's or group DM's
 * members (they see a call in their conversation without having it open, and get its rings).
 */
export async function audienceOf(db: Executor, channelId: string): Promise<string[]> {
  const channel = await findCallChannel(db, channelId);
  if (!channel) return [];
  if (!isConversation(channel.kind)) return [channelTopic(channelId)];
  return (await listConversationMembers(db, channelId)).map(userTopic);
}

// ------------------------------------------------------------------------------------ rings

export type Ring = { channelId: string; calleeId: string; callerId: string; startedAt: Date; expiresAt: Date };

type RingRow = { channel_id: string; callee_id: string; caller_id: string; started_at: Date; expires_at: Date };
const toRing = (r: RingRow): Ring => ({ channelId: r.channel_id, calleeId: r.callee_id, callerId: r.caller_id, startedAt: new Date(r.started_at), expiresAt: new Date(r.expires_at) });

export async function upsertRing(db: Executor, ring: Ring): Promise<void> {
  await db
    .insertInto("voice_rings")
    .values({ channel_id: ring.channelId, callee_id: ring.calleeId, caller_id: ring.callerId, started_at: ring.startedAt, expires_at: ring.expiresAt })
    .onConflict((oc) => oc.columns(["channel_id", "callee_id"]).doUpdateSet({ caller_id: ring.callerId, started_at: ring.startedAt, expires_at: ring.expiresAt }))
    .execute();
}

export async function deleteRings(db: Executor, channelId: string, calleeIds?: readonly string[]): Promise<Ring[]> {
  let q = db.deleteFrom("voice_rings").where("channel_id", "=", channelId);
  if (calleeIds) {
    if (calleeIds.length === 0) return [];
    q = q.where("callee_id", "in", [...calleeIds]);
  }
  return (await q.returningAll().execute()).map(toRing);
}

/** Deletes the rings of this callee that expired by `now` (the timer's and the sweep's work). */
export async function deleteExpiredRings(db: Executor, now: Date, only?: { channelId: string; calleeId: string }): Promise<Ring[]> {
  let q = db.deleteFrom("voice_rings").where("expires_at", "<=", now);
  if (only) q = q.where("channel_id", "=", only.channelId).where("callee_id", "=", only.calleeId);
  return (await q.returningAll().execute()).map(toRing);
}

export async function listRingsFor(db: Executor, calleeId: string, now: Date): Promise<Ring[]> {
  const rows = await db.selectFrom("voice_rings").selectAll().where("callee_id", "=", calleeId).where("expires_at", ">", now).orderBy("started_at").execute();
  return rows.map(toRing);
}
