/**
 * Scheduled messages: encrypted in advance by the client (the server stores the same opaque
 * envelope a send would carry), delivered by a job through the SAME send path as a normal
 * message (sendMessage), so access, archived/read-only, timeouts, blocks and slow mode are
 * checked again at delivery. A refused delivery is kept as `failed` with the error's code; reply
 * and thread links and mentions are kept. Limits: send_at in the future and ≤ 30 days ahead;
 * ≤ 50 pending per user.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessChannel, isUuid, type ActorRef } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { checkMayMentionAll, checkMaySend, parseSendInput, resolveLinks, sendMessage, unknownDevice, type SendInput } from "./send.ts";
import { isDeviceRegistered } from "../keys/index.ts";
import { attachFiles, listScheduledFileIds } from "../files/index.ts";
import { encodeCiphertext, parseInstant } from "./schemas.ts";
import type { ScheduledMessagesTable } from "../../db/schema.ts";
import type { Selectable } from "kysely";
import { observeJobLag } from "../../metrics/registry.ts";

export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600 * 1000;
export const MAX_PENDING_SCHEDULED = 50;
const BATCH = 100;

type Row = Selectable<ScheduledMessagesTable>;
export type ScheduledView = {
  id: string;
  channel_id: string;
  client_id: string;
  scheme: string;
  ciphertext: string;
  sender_device_id: string;
  reply_to_id: string | null;
  thread_root_id: string | null;
  mentions: string[];
  mention_all: "everyone" | "here" | null;
  send_at: Date;
  status: string;
  message_id: string | null;
  failure_code: string | null;
  created_at: Date;
  processed_at: Date | null;
};

function toView(r: Row): ScheduledView {
  return {
    id: r.id,
    channel_id: r.channel_id,
    client_id: r.client_id,
    scheme: r.scheme,
    ciphertext: encodeCiphertext(r.ciphertext)!,
    sender_device_id: r.sender_device_id,
    reply_to_id: r.reply_to_id,
    thread_root_id: r.thread_root_id,
    mentions: r.mentions,
    mention_all: r.mention_all,
    send_at: r.send_at,
    status: r.status,
    message_id: r.message_id,
    failure_code: r.failure_code,
    created_at: r.created_at,
    processed_at: r.processed_at,
  };
}

export async function scheduleMessage(deps: AppDeps, actor: ActorRef, channelId: string, input: SendInput & { send_at?: unknown }): Promise<{ scheduled: ScheduledView; created: boolean }> {
  const parsed = parseSendInput(input);
  const now = nowOf(deps);
  const sendAt = parseInstant(input.send_at, "send_at");
  if (!sendAt) throw new InvalidInputError('The field "send_at" is required.', { send_at: "Required." }, "INVALID_SEND_AT");
  if (sendAt.getTime() <= now.getTime()) throw new InvalidInputError("send_at must be in the future.", { send_at: "Must be in the future." }, "SEND_AT_IN_PAST");
  if (sendAt.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS) throw new InvalidInputError("A message can be scheduled at most 30 days ahead.", { send_at: "At most 30 days ahead." }, "SEND_AT_TOO_FAR");
  return mutate(deps, async (tx) => {
    const access = await accessChannel(tx, actor, channelId, now);
    // Serialise this user's schedules first: the 50 limit holds under concurrent requests, and a
    // retry racing its original sees the original's row here instead of a unique violation.
    await tx.selectFrom("users").select("id").where("id", "=", actor.userId).forUpdate().executeTakeFirstOrThrow();
    const seen = await tx.selectFrom("scheduled_messages").selectAll().where("user_id", "=", actor.userId).where("client_id", "=", parsed.clientId).executeTakeFirst();
    if (seen) {
      if (seen.channel_id !== access.channel.id) throw new ConflictError("That client_id was already used in another channel.", "CLIENT_ID_REUSED");
      return { scheduled: toView(seen), created: false };
    }
    // Checked now for an early answer, and again at delivery (the send path): a device revoked
    // before send_at fails the delivery with UNKNOWN_DEVICE.
    await checkMaySend(tx, access, actor, parsed.scheme);
    if (parsed.mentionAll) checkMayMentionAll(access);
    if (!(await isDeviceRegistered(tx, actor.userId, parsed.deviceId))) throw unknownDevice();
    await resolveLinks(tx, access.channel.id, parsed, now);
    const pending = await tx.selectFrom("scheduled_messages").select((eb) => eb.fn.countAll<number>().as("n")).where("user_id", "=", actor.userId).where("status", "=", "pending").executeTakeFirstOrThrow();
    if (Number(pending.n) >= MAX_PENDING_SCHEDULED) throw new ConflictError(`You can have at most ${MAX_PENDING_SCHEDULED} scheduled messages waiting.`, "TOO_MANY_SCHEDULED");
    const row = await tx
      .insertInto("scheduled_messages")
      .values({
        id: Bun.randomUUIDv7(),
        user_id: actor.userId,
        channel_id: access.channel.id,
        client_id: parsed.clientId,
        scheme: parsed.scheme,
        ciphertext: parsed.ciphertext,
        sender_device_id: parsed.deviceId,
        reply_to_id: parsed.replyToId,
        thread_root_id: parsed.threadRootId,
        mentions: parsed.mentions,
        mention_all: parsed.mentionAll,
        send_at: sendAt,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    // Its files are kept for it (never expired as unattached uploads) and go out with it.
    await attachFiles(tx, parsed.fileIds, { scheduledMessageId: row.id, senderId: actor.userId, channelId: access.channel.id });
    return { scheduled: toView(row), created: true };
  });
}

/** The user's pending ones (soonest first) and the last 50 processed ones (sent or failed). */
export async function listScheduled(deps: AppDeps, actor: ActorRef): Promise<ScheduledView[]> {
  const db = dbOf(deps);
  const pending = await db.selectFrom("scheduled_messages").selectAll().where("user_id", "=", actor.userId).where("status", "=", "pending").orderBy("send_at").orderBy("id").execute();
  const done = await db.selectFrom("scheduled_messages").selectAll().where("user_id", "=", actor.userId).where("status", "!=", "pending").orderBy("processed_at", "desc").limit(50).execute();
  return [...pending, ...done].map(toView);
}

/** Cancels a pending one, or forgets a processed one. Another user's id is 404. */
export async function deleteScheduled(deps: AppDeps, actor: ActorRef, id: string): Promise<void> {
  const removed = isUuid(id)
    ? await dbOf(deps).deleteFrom("scheduled_messages").where("id", "=", id.toLowerCase()).where("user_id", "=", actor.userId).returning("id").executeTakeFirst()
    : undefined;
  if (!removed) throw new NotFoundError("No such scheduled message.", "SCHEDULED_NOT_FOUND");
}

/**
 * Run-once job: takes due pending rows, sends each through sendMessage as its author, and records
 * `sent` + message_id or `failed` + the code (only while still pending). Two instances may pick
 * the same row: the send carries the schedule's client_id, so both converge on one message.
 * A non-AppError (database down) leaves the row pending for the next run.
 */
export async function deliverScheduledMessages(deps: AppDeps, now = nowOf(deps)): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (;;) {
    const due = await dbOf(deps).selectFrom("scheduled_messages").select("id").where("status", "=", "pending").where("send_at", "<=", now).orderBy("send_at").limit(BATCH).execute();
    if (due.length === 0) break;
    for (const { id } of due) {
      const outcome = await deliverOne(deps, id, now);
      if (outcome === "sent") sent++;
      else if (outcome === "failed") failed++;
    }
    if (due.length < BATCH) break;
  }
  return { sent, failed };
}

async function deliverOne(deps: AppDeps, id: string, now: Date): Promise<"sent" | "failed" | "skipped"> {
  const row = await dbOf(deps).selectFrom("scheduled_messages as s").innerJoin("users as u", "u.id", "s.user_id").selectAll("s").select("u.is_owner").where("s.id", "=", id).where("s.status", "=", "pending").executeTakeFirst();
  if (!row) return "skipped";
  const actor: ActorRef = { userId: row.user_id, isOwner: row.is_owner };
  let result: { message_id: string } | { code: string };
  try {
    const { message } = await sendMessage(deps, actor, row.channel_id, {
      client_id: row.client_id,
      scheme: row.scheme,
      ciphertext: encodeCiphertext(row.ciphertext),
      sender_device_id: row.sender_device_id,
      reply_to_id: row.reply_to_id,
      thread_root_id: row.thread_root_id,
      mentions: row.mentions,
      mention_all: row.mention_all,
      file_ids: await listScheduledFileIds(dbOf(deps), row.id),
    }, { scheduledMessageId: row.id });
    result = { message_id: message.id };
  } catch (error) {
    if (!(error instanceof AppError)) throw error; // a database failure: retried at the next run
    result = { code: error.code };
  }
  const status = "message_id" in result ? "sent" : "failed";
  // How late it went out (the job runs every SCHEDULED_INTERVAL_MS; more means a backlog or an outage).
  observeJobLag("scheduled_messages", (now.getTime() - new Date(row.send_at).getTime()) / 1000);
  await mutate(deps, (tx) =>
    tx
      .updateTable("scheduled_messages")
      .set({ status, message_id: "message_id" in result ? result.message_id : null, failure_code: "code" in result ? result.code : null, processed_at: now })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .execute(),
  );
  return status;
}
