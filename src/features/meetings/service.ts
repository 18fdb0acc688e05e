/**
 * Meetings in a channel or DM (issue 18 §5, docs/meetings.md). The organizer must be able to post
 * in the conversation; attendees are members of it. The server keeps as little plaintext as it
 * can: times, time zone, attendees, the voice channel and RSVPs (it needs them to send the
 * invitations and count answers); the title only when the organizer chose to put it in the
 * email (include_title); the description never (it lives in the encrypted message the client
 * posts to the conversation, whose id the client attaches as message_id).
 *
 * Mail: when email is configured, each attendee other than the organizer whose address is
 * verified gets one invitation per change (REQUEST on create/update with SEQUENCE + 1, CANCEL on
 * cancel and to attendees removed by an update), through the outbox.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor, Tx } from "../../db/tx.ts";
import { ForbiddenError, InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import type { Limit } from "../../http/rate-limit.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { checkMayPost } from "../messages/index.ts";
import { accessChannel, isUuid, type ActorRef, type ChannelAccess } from "../permissions/index.ts";
import { buildInvitation, isKnownTimeZone } from "./ical.ts";
import { oneLine } from "../../mail/mailer.ts";
import { enqueueMail, meetingDelivery, type DeliveryStatus } from "../../mail/outbox.ts";
import { rateStoreOf } from "../auth/index.ts";

export const MEETING_TITLE_MAX = 200;
export const MEETING_ATTENDEES_MAX = 100;
export const MEETING_MAX_DURATION_MS = 14 * 24 * 3600_000;
/** Per organizer, for the actions that send mail (create, update, cancel): 10 at once, then one a minute. */
export const MEETING_MAIL_RATE: Limit = { ratePerSec: 1 / 60, burst: 10 };
export type Rsvp = "yes" | "no" | "maybe";

export type MeetingInput = {
  starts_at: string;
  ends_at: string;
  time_zone: string;
  attendee_ids: string[];
  voice_channel_id?: string | null;
  include_title?: boolean;
  title?: string | null;
  message_id?: string | null;
};

export type MeetingView = {
  id: string;
  channel_id: string;
  organizer_id: string | null;
  include_title: boolean;
  title: string | null;
  starts_at: string;
  ends_at: string;
  time_zone: string;
  voice_channel_id: string | null;
  message_id: string | null;
  sequence: number;
  cancelled_at: string | null;
  attendees: { user_id: string; display_name: string; rsvp: Rsvp | null }[];
  my_rsvp: Rsvp | null;
  /** The organizer only: the invitation emails' state (null for everyone else, and when email is off). */
  delivery: DeliveryStatus | null;
};

type MeetingRow = { id: string; channel_id: string; organizer_id: string | null; include_title: boolean; title: string | null; starts_at: Date; ends_at: Date; time_zone: string; voice_channel_id: string | null; message_id: string | null; sequence: number; cancelled_at: Date | null };

const iso = (d: Date | string) => new Date(d).toISOString();

/** The meeting when its conversation is visible to the actor; 404 otherwise (outsiders, unknown ids). */
async function accessMeeting(db: Executor, actor: ActorRef, meetingId: string, now: Date, forUpdate = false): Promise<{ meeting: MeetingRow; access: ChannelAccess }> {
  let q = db.selectFrom("meetings").selectAll().where("id", "=", isUuid(meetingId) ? meetingId.toLowerCase() : "00000000-0000-0000-0000-000000000000");
  if (forUpdate) q = q.forUpdate();
  const meeting = (await q.executeTakeFirst()) as MeetingRow | undefined;
  if (!meeting) throw new NotFoundError("No such meeting.", "MEETING_NOT_FOUND");
  try {
    return { meeting, access: await accessChannel(db, actor, meeting.channel_id, now) };
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError("No such meeting.", "MEETING_NOT_FOUND");
    throw error;
  }
}

function parseTime(field: string, raw: string): Date {
  const d = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(d.getTime())) throw new InvalidInputError("Enter a date and time.", { [field]: "Enter a date and time (ISO 8601)." }, "INVALID_TIME");
  return d;
}

type Checked = { starts: Date; ends: Date; timeZone: string; attendees: string[]; voiceChannelId: string | null; includeTitle: boolean; title: string | null };

async function checkInput(tx: Executor, actor: ActorRef, access: ChannelAccess, input: MeetingInput, now: Date): Promise<Checked> {
  const starts = parseTime("starts_at", input.starts_at);
  const ends = parseTime("ends_at", input.ends_at);
  if (ends.getTime() <= starts.getTime()) throw new InvalidInputError("The meeting must end after it starts.", { ends_at: "Must be after the start." }, "INVALID_TIME");
  if (ends.getTime() - starts.getTime() > MEETING_MAX_DURATION_MS) throw new InvalidInputError("A meeting lasts at most 14 days.", { ends_at: "At most 14 days after the start." }, "INVALID_TIME");
  if (starts.getTime() < now.getTime() - 24 * 3600_000 || starts.getTime() > now.getTime() + 5 * 366 * 24 * 3600_000) throw new InvalidInputError("The start must be between yesterday and five years from now.", { starts_at: "Out of range." }, "INVALID_TIME");
  if (!isKnownTimeZone(input.time_zone)) throw new InvalidInputError("Unknown time zone: use an IANA name such as Europe/Berlin.", { time_zone: "Unknown time zone." }, "INVALID_TIME_ZONE");
  const includeTitle = input.include_title === true;
  let title: string | null = null;
  if (includeTitle) {
    title = oneLine(input.title ?? "");
    if (title.length < 1 || title.length > MEETING_TITLE_MAX) throw new InvalidInputError(`The title must be 1–${MEETING_TITLE_MAX} characters to go into the email.`, { title: "Required when the title goes into the email." }, "INVALID_TITLE");
  }
  const ids = [...new Set(input.attendee_ids.map((id) => id.toLowerCase()))];
  if (ids.length > MEETING_ATTENDEES_MAX) throw new InvalidInputError(`At most ${MEETING_ATTENDEES_MAX} attendees.`, { attendee_ids: "Too many." }, "TOO_MANY_ATTENDEES");
  const attendees = ids.filter((id) => id !== actor.userId);
  for (const id of attendees) {
    const ok = isUuid(id) && (await accessChannel(tx, { userId: id, isOwner: false }, access.channel.id, now).then(() => true, () => false));
    if (!ok) throw new InvalidInputError("Every attendee must be a member of this conversation.", { attendee_ids: "Not a member of this conversation." }, "INVALID_ATTENDEE");
  }
  let voiceChannelId: string | null = null;
  if (input.voice_channel_id) {
    const voice = await accessChannel(tx, actor, input.voice_channel_id, now).catch(() => null);
    if (!voice || voice.channel.kind !== "voice" || voice.channel.communityId === null || voice.channel.communityId !== access.channel.communityId) {
      throw new InvalidInputError("Choose a voice channel of this community.", { voice_channel_id: "Not a voice channel of this community." }, "INVALID_VOICE_CHANNEL");
    }
    voiceChannelId = voice.channel.id;
  }
  return { starts, ends, timeZone: input.time_zone, attendees, voiceChannelId, includeTitle, title };
}

async function takeMailRate(deps: AppDeps, userId: string, now: Date): Promise<void> {
  const taken = await rateStoreOf(deps).take(`meeting-mail:${userId}`, MEETING_MAIL_RATE, now.getTime());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "You are scheduling meetings too fast. Try again shortly.", "MEETING_RATE_LIMITED");
}

function whenText(start: Date, end: Date, timeZone: string): string {
  const fmt = (d: Date, opts: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat("en-GB", { timeZone, ...opts }).format(d);
  return `${fmt(start, { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" })}–${fmt(end, { hour: "2-digit", minute: "2-digit" })} (${timeZone})`;
}

/** Queues one mail per verified attendee (not the organizer): REQUEST to `to`, CANCEL to `cancelTo`. */
async function queueInvitations(deps: AppDeps, tx: Tx, meeting: MeetingRow, access: ChannelAccess, organizerName: string, to: string[], cancelTo: string[], baseUrl: string, now: Date): Promise<void> {
  const smtp = deps.config.smtp;
  if (!smtp) return;
  const all = [...to.map((id) => ({ id, method: "REQUEST" as const })), ...cancelTo.map((id) => ({ id, method: "CANCEL" as const }))].filter((r) => r.id !== meeting.organizer_id);
  if (all.length === 0) return;
  const users = await tx.selectFrom("users").select(["id", "email", "email_verified_at", "display_name"]).where("id", "in", all.map((r) => r.id)).execute();
  const byId = new Map(users.map((u) => [u.id, u]));
  const channel = access.channel;
  const where = channel.communityId ? `#${oneLine(channel.name ?? "channel")} (${oneLine(access.community?.community.name ?? "")})` : "a direct message";
  const url = `${baseUrl.replace(/\/+$/, "")}${channel.communityId ? `/c/${channel.communityId}/ch/${channel.id}` : `/dms/${channel.id}`}`;
  const when = whenText(new Date(meeting.starts_at), new Date(meeting.ends_at), meeting.time_zone);
  const organizer = oneLine(organizerName);
  const host = new URL(baseUrl).hostname || "hearth";
  for (const r of all) {
    const u = byId.get(r.id);
    if (!u?.email || !u.email_verified_at) continue; // unverified addresses get nothing
    const cancelled = r.method === "CANCEL";
    const what = meeting.include_title && meeting.title ? `"${oneLine(meeting.title)}"` : "a meeting";
    const subject = `${cancelled ? "Cancelled" : meeting.sequence > 0 ? "Updated" : "Invitation"}: ${meeting.include_title && meeting.title ? oneLine(meeting.title) : `a meeting in ${where}`} at ${when}`;
    const text = [
      `${organizer} ${cancelled ? "cancelled" : meeting.sequence > 0 ? "changed" : "invited you to"} ${what} in ${where} at ${when}.`,
      "",
      cancelled ? "" : `Answer and see the details in Hearth: ${url}`,
      "The meeting's details are end-to-end encrypted and shown only in Hearth; this email is not encrypted.",
      "",
    ].join("\n");
    const ical = buildInvitation({
      method: r.method,
      uid: `${meeting.id}@${host}`,
      sequence: meeting.sequence,
      stamp: now,
      start: new Date(meeting.starts_at),
      end: new Date(meeting.ends_at),
      timeZone: meeting.time_zone,
      summary: meeting.include_title && meeting.title ? meeting.title : `Meeting in ${where}`,
      description: `Details and RSVP in Hearth: ${url}`,
      url,
      organizer: { name: `${organizer} via Hearth`, email: smtp.from },
      attendee: { name: oneLine(u.display_name), email: u.email },
    });
    await enqueueMail(tx, { kind: "meeting", userId: u.id, meetingId: meeting.id, to: u.email, subject, text, ical: { method: r.method, content: ical } }, now);
  }
}

async function organizerNameOf(tx: Executor, userId: string): Promise<string> {
  const row = await tx.selectFrom("users").select("display_name").where("id", "=", userId).executeTakeFirst();
  return row?.display_name ?? "Someone";
}

async function checkMessage(tx: Executor, actor: ActorRef, channelId: string, messageId: string | null | undefined): Promise<string | null | undefined> {
  if (messageId === undefined || messageId === null) return messageId;
  const row = isUuid(messageId) ? await tx.selectFrom("messages").select(["id", "channel_id", "sender_id"]).where("id", "=", messageId.toLowerCase()).executeTakeFirst() : undefined;
  if (!row || row.channel_id !== channelId || row.sender_id !== actor.userId) throw new InvalidInputError("The message must be your own message in this conversation.", { message_id: "Not your message in this conversation." }, "INVALID_MESSAGE");
  return row.id;
}

export async function createMeeting(deps: AppDeps, actor: ActorRef, channelId: string, input: MeetingInput, baseUrl: string): Promise<MeetingView> {
  const now = nowOf(deps);
  const id = await mutate(deps, async (tx) => {
    const access = await accessChannel(tx, actor, channelId, now);
    await checkMayPost(tx, access, actor);
    const c = await checkInput(tx, actor, access, input, now);
    const messageId = await checkMessage(tx, actor, access.channel.id, input.message_id);
    await takeMailRate(deps, actor.userId, now);
    const meeting: MeetingRow = { id: crypto.randomUUID(), channel_id: access.channel.id, organizer_id: actor.userId, include_title: c.includeTitle, title: c.title, starts_at: c.starts, ends_at: c.ends, time_zone: c.timeZone, voice_channel_id: c.voiceChannelId, message_id: messageId ?? null, sequence: 0, cancelled_at: null };
    await tx.insertInto("meetings").values({ ...meeting, created_at: now, updated_at: now }).execute();
    await tx.insertInto("meeting_attendees").values([{ meeting_id: meeting.id, user_id: actor.userId, rsvp: "yes", responded_at: now }, ...c.attendees.map((u) => ({ meeting_id: meeting.id, user_id: u, rsvp: null, responded_at: null }))]).execute();
    await queueInvitations(deps, tx, meeting, access, await organizerNameOf(tx, actor.userId), c.attendees, [], baseUrl, now);
    return meeting.id;
  });
  return getMeeting(deps, actor, id);
}

export async function updateMeeting(deps: AppDeps, actor: ActorRef, meetingId: string, input: Partial<MeetingInput>, baseUrl: string): Promise<MeetingView> {
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const { meeting, access } = await accessMeeting(tx, actor, meetingId, now, true);
    if (meeting.organizer_id !== actor.userId) throw new ForbiddenError("Only the organizer can change this meeting.", "NOT_ORGANIZER");
    if (meeting.cancelled_at) throw new ForbiddenError("This meeting was cancelled.", "MEETING_CANCELLED");
    await checkMayPost(tx, access, actor);
    const before = (await tx.selectFrom("meeting_attendees").select("user_id").where("meeting_id", "=", meeting.id).execute()).map((r) => r.user_id).filter((u) => u !== actor.userId);
    const merged: MeetingInput = {
      starts_at: input.starts_at ?? iso(meeting.starts_at),
      ends_at: input.ends_at ?? iso(meeting.ends_at),
      time_zone: input.time_zone ?? meeting.time_zone,
      attendee_ids: input.attendee_ids ?? before,
      voice_channel_id: input.voice_channel_id === undefined ? meeting.voice_channel_id : input.voice_channel_id,
      include_title: input.include_title ?? meeting.include_title,
      title: input.title === undefined ? meeting.title : input.title,
    };
    const c = await checkInput(tx, actor, access, merged, now);
    const messageId = await checkMessage(tx, actor, meeting.channel_id, input.message_id);
    const changed =
      c.starts.getTime() !== new Date(meeting.starts_at).getTime() ||
      c.ends.getTime() !== new Date(meeting.ends_at).getTime() ||
      c.timeZone !== meeting.time_zone ||
      c.voiceChannelId !== meeting.voice_channel_id ||
      c.includeTitle !== meeting.include_title ||
      c.title !== meeting.title ||
      c.attendees.length !== before.length ||
      c.attendees.some((u) => !before.includes(u));
    if (changed) await takeMailRate(deps, actor.userId, now);
    const next: MeetingRow = { ...meeting, starts_at: c.starts, ends_at: c.ends, time_zone: c.timeZone, voice_channel_id: c.voiceChannelId, include_title: c.includeTitle, title: c.title, message_id: messageId === undefined ? meeting.message_id : messageId, sequence: meeting.sequence + (changed ? 1 : 0) };
    await tx
      .updateTable("meetings")
      .set({ starts_at: next.starts_at, ends_at: next.ends_at, time_zone: next.time_zone, voice_channel_id: next.voice_channel_id, include_title: next.include_title, title: next.title, message_id: next.message_id, sequence: next.sequence, updated_at: now })
      .where("id", "=", meeting.id)
      .execute();
    if (!changed) return;
    const removed = before.filter((u) => !c.attendees.includes(u));
    const added = c.attendees.filter((u) => !before.includes(u));
    if (removed.length > 0) await tx.deleteFrom("meeting_attendees").where("meeting_id", "=", meeting.id).where("user_id", "in", removed).execute();
    if (added.length > 0) await tx.insertInto("meeting_attendees").values(added.map((u) => ({ meeting_id: meeting.id, user_id: u, rsvp: null, responded_at: null }))).execute();
    await queueInvitations(deps, tx, next, access, await organizerNameOf(tx, actor.userId), c.attendees, removed, baseUrl, now);
  });
  return getMeeting(deps, actor, meetingId);
}

export async function cancelMeeting(deps: AppDeps, actor: ActorRef, meetingId: string, baseUrl: string): Promise<MeetingView> {
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const { meeting, access } = await accessMeeting(tx, actor, meetingId, now, true);
    if (meeting.organizer_id !== actor.userId) throw new ForbiddenError("Only the organizer can cancel this meeting.", "NOT_ORGANIZER");
    if (meeting.cancelled_at) return;
    await checkMayPost(tx, access, actor);
    await takeMailRate(deps, actor.userId, now);
    const next: MeetingRow = { ...meeting, sequence: meeting.sequence + 1, cancelled_at: now };
    await tx.updateTable("meetings").set({ sequence: next.sequence, cancelled_at: now, updated_at: now }).where("id", "=", meeting.id).execute();
    const attendees = (await tx.selectFrom("meeting_attendees").select("user_id").where("meeting_id", "=", meeting.id).execute()).map((r) => r.user_id);
    await queueInvitations(deps, tx, next, access, await organizerNameOf(tx, actor.userId), [], attendees, baseUrl, now);
  });
  return getMeeting(deps, actor, meetingId);
}

export async function rsvpMeeting(deps: AppDeps, actor: ActorRef, meetingId: string, response: Rsvp): Promise<MeetingView> {
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const { meeting } = await accessMeeting(tx, actor, meetingId, now);
    if (meeting.cancelled_at) throw new ForbiddenError("This meeting was cancelled.", "MEETING_CANCELLED");
    const updated = await tx.updateTable("meeting_attendees").set({ rsvp: response, responded_at: now }).where("meeting_id", "=", meeting.id).where("user_id", "=", actor.userId).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw new ForbiddenError("You are not invited to this meeting.", "NOT_INVITED");
  });
  return getMeeting(deps, actor, meetingId);
}

async function toView(deps: AppDeps, actor: ActorRef, meeting: MeetingRow): Promise<MeetingView> {
  const db = dbOf(deps);
  const attendees = await db
    .selectFrom("meeting_attendees as a")
    .innerJoin("users as u", "u.id", "a.user_id")
    .select(["a.user_id", "u.display_name", "a.rsvp"])
    .where("a.meeting_id", "=", meeting.id)
    .orderBy("u.display_name")
    .execute();
  return {
    id: meeting.id,
    channel_id: meeting.channel_id,
    organizer_id: meeting.organizer_id,
    include_title: meeting.include_title,
    title: meeting.title,
    starts_at: iso(meeting.starts_at),
    ends_at: iso(meeting.ends_at),
    time_zone: meeting.time_zone,
    voice_channel_id: meeting.voice_channel_id,
    message_id: meeting.message_id,
    sequence: meeting.sequence,
    cancelled_at: meeting.cancelled_at ? iso(meeting.cancelled_at) : null,
    attendees: attendees.map((a) => ({ user_id: a.user_id, display_name: a.display_name, rsvp: a.rsvp })),
    my_rsvp: attendees.find((a) => a.user_id === actor.userId)?.rsvp ?? null,
    delivery: meeting.organizer_id === actor.userId && deps.config.smtp ? await meetingDelivery(db, meeting.id) : null,
  };
}

export async function getMeeting(deps: AppDeps, actor: ActorRef, meetingId: string): Promise<MeetingView> {
  const { meeting } = await accessMeeting(dbOf(deps), actor, meetingId, nowOf(deps));
  return toView(deps, actor, meeting);
}

/** The conversation's meetings that have not ended (cancelled ones included, marked), soonest first. */
export async function listMeetings(deps: AppDeps, actor: ActorRef, channelId: string): Promise<MeetingView[]> {
  const now = nowOf(deps);
  const access = await accessChannel(dbOf(deps), actor, channelId, now);
  const rows = (await dbOf(deps).selectFrom("meetings").selectAll().where("channel_id", "=", access.channel.id).where("ends_at", ">", now).orderBy("starts_at").limit(50).execute()) as MeetingRow[];
  return Promise.all(rows.map((r) => toView(deps, actor, r)));
}
