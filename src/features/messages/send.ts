/**
 * Sending a message (docs/messages.md "Sending"). The hot path of the whole product: 1,000
 * messages/s into one channel must be sustainable (scripts/bench/send-path.ts, fanout.ts).
 *
 *  1. Reads, outside any transaction: access (ONE query: loadChannelAccess), the channel's rules
 *     (archived, read-only, timeout; DM blocks), and only when present the reply/thread targets
 *     and mentions. Under READ COMMITTED every statement sees the latest commits anyway, so
 *     reading inside the write transaction decided nothing more, and held a connection longer.
 *  2. ONE statement that is its own transaction: it bumps the channel's last_seq (taking the
 *     row lock) and inserts the message with that seq, only if the sender's device is registered,
 *     the client id is new and slow mode does not apply. The row lock is therefore held for one
 *     statement's execution and its COMMIT, with no client round trip inside it: concurrent
 *     senders of one channel queue for microseconds plus a WAL flush, not three round trips.
 *     It commits or rolls back as a whole, so committed seqs stay 1, 2, 3… without gaps.
 *     Group commit (send-batcher.ts, docs/decisions/0002 "Batching"): while this process has
 *     such a statement of the channel in flight, later sends of the channel queue and go
 *     together as ONE multi-row statement (send-statement.ts insertBatch: one row lock, one WAL
 *     flush, one round trip for up to 64 messages, seqs consecutive in queue order). The
 *     statement leaves out, per message, a seen client id or an unregistered device (that
 *     message alone is "refused" and explained below); a batch that fails as a whole (a
 *     concurrent duplicate's unique violation, any error) wrote nothing and is retried message
 *     by message with the one-message statement. A send into an idle channel goes at once.
 *  3. After that COMMIT: `message:new` to the channel topic, then channel:activity (outbox
 *     order, as runInTransaction does) — done by the batcher, in seq order, before the send
 *     returns.
 *
 * Idempotency: a retried client id finds its row (the statement refuses it, the refusal is
 * explained by one lookup); a concurrent duplicate that commits first makes ours fail on the
 * unique (sender_id, client_id) index, which rolls our statement back (no seq used) and turns
 * into a lookup of the winner. Channels in slow mode (for senders it applies to) take the
 * careful path: lock the row, check the sender's last message, then the same statement.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor } from "../../db/tx.ts";
import { AppError, ConflictError, ForbiddenError, InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import { channelTopic } from "../../ws/topics.ts";
import { isDmPartnerBlocked } from "../dms/index.ts";
import { isDeviceRegistered } from "../keys/index.ts";
import { accessChannel, type ActorRef, type ChannelAccess } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { allowsIn, isDm } from "./access.ts";
import { findByClientId, findMessage, toView, toWire, type MessageRow, type MessageView } from "./queries.ts";
import { decodeCiphertext, optionalUuid, parseMentionAll, parseMentions, type MentionAll, parseViewerVersion, requireDeviceId, requireScheme, requireUuid, viewersChanged, type Scheme } from "./schemas.ts";
import { listAudience, noteActivity } from "./realtime.ts";
import { presenceOf } from "../presence/index.ts";
import { emitMessageCreated } from "./created-hooks.ts";
import { attachFiles, parseFileIds } from "../files/index.ts";
import { sendBatched, type Outcome } from "./send-batcher.ts";
import { insertWithSeq, orDuplicate, type Draft } from "./send-statement.ts";
import { noteMessageSent } from "../../metrics/registry.ts";

export type SendInput = {
  client_id?: unknown;
  scheme?: unknown;
  ciphertext?: unknown;
  sender_device_id?: unknown;
  reply_to_id?: unknown;
  thread_root_id?: unknown;
  mentions?: unknown;
  /** @everyone / @here (docs/messages.md "Unread and mentions"). */
  mention_all?: unknown;
  viewer_version?: unknown;
  /** Uploads this message carries (docs/files.md "Attaching"): the server links the ids, nothing more. */
  file_ids?: unknown;
};

/** `viewerVersion`: the viewer set the ciphertext was encrypted for; null = not checked (schemas.ts parseViewerVersion). */
export type Parsed = { clientId: string; scheme: Scheme; ciphertext: Uint8Array; deviceId: string; replyToId: string | null; threadRootId: string | null; mentions: string[]; mentionAll: MentionAll | null; viewerVersion: number | null; fileIds: string[] };

export function parseSendInput(input: SendInput): Parsed {
  return {
    clientId: requireUuid(input.client_id, "client_id"),
    scheme: requireScheme(input.scheme),
    ciphertext: decodeCiphertext(input.ciphertext),
    deviceId: requireDeviceId(input.sender_device_id),
    replyToId: optionalUuid(input.reply_to_id, "reply_to_id"),
    threadRootId: optionalUuid(input.thread_root_id, "thread_root_id"),
    mentions: parseMentions(input.mentions),
    mentionAll: parseMentionAll(input.mention_all),
    viewerVersion: parseViewerVersion(input.viewer_version),
    fileIds: parseFileIds(input.file_ids),
  };
}

/** The sender_device_id is not one of the sender's registered devices (never registered, or revoked). */
export function unknownDevice(): AppError {
  return new InvalidInputError(
    "This device is not registered for your account (it may have been removed). Messages can only be sent from one of your registered devices.",
    { sender_device_id: "Not one of your registered devices." },
    "UNKNOWN_DEVICE",
  );
}

/** Returns the message and whether this call created it (false: the client id was seen before). */
/**
 * `opts.scheduledMessageId`: the delivery of a scheduled message (scheduled.ts), whose files were
 * linked to it when it was scheduled. A send carrying files takes the careful path below (one
 * transaction: message row, then the files linked to it or the whole send refused).
 */
export async function sendMessage(deps: AppDeps, actor: ActorRef, channelId: string, input: SendInput, opts: { scheduledMessageId?: string } = {}): Promise<{ message: MessageView; created: boolean }> {
  const parsed = parseSendInput(input);
  const now = nowOf(deps);
  const db = dbOf(deps);
  const access = await accessChannel(db, actor, channelId, now);
  let links: Awaited<ReturnType<typeof resolveLinks>>;
  let mentions: string[];
  try {
    await checkMaySend(db, access, actor, parsed.scheme);
    // Encrypted for an older viewer set: refused before any work (the statement re-checks it
    // under the channel's row lock, so a change committing in between is caught there too).
    if (parsed.viewerVersion !== null && parsed.viewerVersion < access.channel.viewerVersion) throw viewersChanged();
    links = await resolveLinks(db, access.channel.id, parsed, now);
    mentions = await keepMembers(db, access, parsed.mentions);
    if (parsed.mentionAll) checkMayMentionAll(access);
  } catch (error) {
    // A retry of a message stored before the refusal (timed out since, say) gets the original.
    // The common retry path needs no lookup here: the insert's refusal below finds it.
    const seen = await findByClientId(db, actor.userId, parsed.clientId);
    if (seen) return { message: sameChannel(seen, access), created: false };
    throw error;
  }
  const hereIds = parsed.mentionAll === "here" ? await listOnlineAudience(deps, access, actor.userId) : [];
  const draft: Draft = { id: Bun.randomUUIDv7(), channelId: access.channel.id, senderId: actor.userId, parsed, links, mentions, hereIds, now };
  const exempt = allowsIn(access, "manage_messages");
  // Group commit (send-batcher.ts): published there, after COMMIT and in seq order.
  let sent: MessageView | undefined;
  const withFiles = parsed.fileIds.length > 0;
  let outcome: Outcome = withFiles ? "refused" : await sendBatched(db, { draft, exempt, committed: (row) => (sent = publishSent(deps, row, access.actorName ?? null)) });
  if (sent) return { message: sent, created: true };
  if (outcome === "refused") {
    // Rare: a retry, an unknown device, a viewer change racing the send, slow mode, or the
    // channel was deleted meanwhile.
    const seen = await findByClientId(db, actor.userId, parsed.clientId);
    if (seen) return { message: sameChannel(seen, access), created: false };
    if (!(await isDeviceRegistered(db, actor.userId, parsed.deviceId))) throw unknownDevice();
    await checkViewerVersion(db, draft);
    outcome = await orDuplicate(db.transaction().execute(async (tx) => {
      // Slow mode: lock the row first, so this sender's last message is read after every
      // concurrent send of the channel committed; then the same statement (it re-checks the rest).
      const channel = await tx.selectFrom("channels").select("slow_mode_seconds").where("id", "=", draft.channelId).forUpdate().executeTakeFirst();
      if (!channel) throw new NotFoundError("No such channel.");
      if (channel.slow_mode_seconds > 0 && !exempt) await checkSlowMode(tx, draft.channelId, actor.userId, channel.slow_mode_seconds, now);
      const row = await insertWithSeq(tx, draft, true);
      if (row !== "refused") await attachFiles(tx, parsed.fileIds, { messageId: row.id, scheduledMessageId: opts.scheduledMessageId, senderId: actor.userId, channelId: draft.channelId });
      return row;
    }));
  }
  if (outcome === "refused" || outcome === "duplicate") {
    const winner = await findByClientId(db, actor.userId, parsed.clientId);
    if (winner) return { message: sameChannel(winner, access), created: false };
    if (outcome === "refused" && !(await isDeviceRegistered(db, actor.userId, parsed.deviceId))) throw unknownDevice();
    if (outcome === "refused") await checkViewerVersion(db, draft);
    throw new ConflictError("That message id is being used. Try again.", "CLIENT_ID_CONFLICT");
  }
  // Committed (the slow-mode transaction): publish.
  return { message: publishSent(deps, outcome, access.actorName ?? null), created: true };
}

/** Explains a refusal of the statement: the viewer set changed after the access check read it. */
async function checkViewerVersion(db: Executor, draft: Draft): Promise<void> {
  const wanted = draft.parsed.viewerVersion;
  if (wanted === null) return;
  const row = await db.selectFrom("channels").select("viewer_version").where("id", "=", draft.channelId).executeTakeFirst();
  if (row && Number(row.viewer_version) > wanted) throw viewersChanged();
}

/** After COMMIT: message:new to the channel topic, then channel:activity (the outbox order of runInTransaction). */
function publishSent(deps: AppDeps, row: MessageRow, senderName: string | null): MessageView {
  const message = toView(row, senderName);
  noteMessageSent(row.scheme);
  deps.events.publish(channelTopic(row.channel_id), { type: "message:new", message: toWire(message) });
  noteActivity(deps, row.channel_id, message.seq);
  if (row.sender_id) emitMessageCreated(deps, { id: row.id, channelId: row.channel_id, senderId: row.sender_id, senderName, mentions: row.mentions ?? [], mentionAll: row.mention_all ?? null, hereIds: row.here_ids ?? [], seq: message.seq });
  return message;
}

function sameChannel(row: MessageRow, access: ChannelAccess): MessageView {
  if (row.channel_id !== access.channel.id) throw new ConflictError("That client_id was already used for a message in another channel.", "CLIENT_ID_REUSED");
  return toView(row, access.actorName ?? null); // the actor's own message
}

/** The channel's rules, each with its stable code (docs/messages.md). */
export async function checkMaySend(tx: Executor, access: ChannelAccess, actor: ActorRef, scheme: Scheme): Promise<void> {
  const expected: Scheme = isDm(access) ? "pw" : "sk";
  if (scheme !== expected) throw new InvalidInputError(`Messages in this channel use the "${expected}" scheme.`, { scheme: `Must be "${expected}".` }, "INVALID_SCHEME");
  await checkMayPost(tx, access, actor);
}

/**
 * Whether the actor may post in a channel it can see, whatever the payload: a message, a poll,
 * a typing indicator. DM blocks (BLOCKED), archived (CHANNEL_ARCHIVED), timeouts (TIMED_OUT),
 * read-only and announcement channels (CHANNEL_READ_ONLY), and send_message (PERMISSION_DENIED).
 */
export async function checkMayPost(tx: Executor, access: ChannelAccess, actor: ActorRef): Promise<void> {
  if (isDm(access)) {
    if (access.channel.kind === "dm" && (await isDmPartnerBlocked(tx, access.channel.id, actor.userId))) throw new ForbiddenError("You cannot message this person.", "BLOCKED");
    return;
  }
  const channel = access.channel;
  if (channel.archived) throw new ForbiddenError("This channel is archived.", "CHANNEL_ARCHIVED");
  const until = access.community!.subject.member?.timedOutUntil;
  if (until && until.getTime() > access.community!.ctx.now.getTime()) throw new ForbiddenError("You are timed out in this community.", "TIMED_OUT");
  if (allowsIn(access, "send_message")) return;
  if (channel.readOnly || channel.kind === "announcement") throw new ForbiddenError("Only moderators can post in this channel.", "CHANNEL_READ_ONLY");
  throw new ForbiddenError("You cannot send messages in this channel.", "PERMISSION_DENIED");
}

async function checkSlowMode(tx: Executor, channelId: string, userId: string, seconds: number, now: Date): Promise<void> {
  const last = await tx.selectFrom("messages").select("created_at").where("sender_id", "=", userId).where("channel_id", "=", channelId).orderBy("created_at", "desc").limit(1).executeTakeFirst();
  if (!last) return;
  const waitMs = new Date(last.created_at).getTime() + seconds * 1000 - now.getTime();
  if (waitMs > 0) throw new RateLimitedError(waitMs / 1000, `Slow mode is on: you can send again in ${Math.ceil(waitMs / 1000)} s.`, "SLOW_MODE");
}

/** Reply and thread targets must be live messages of the same channel; threads are one level. */
export async function resolveLinks(tx: Executor, channelId: string, p: Parsed, now: Date): Promise<{ replyToId: string | null; threadRootId: string | null }> {
  let threadRootId: string | null = null;
  if (p.threadRootId) {
    const root = await findMessage(tx, p.threadRootId, now);
    if (!root || root.channel_id !== channelId) throw invalidLink("thread_root_id");
    threadRootId = root.thread_root_id ?? root.id;
  }
  let replyToId: string | null = null;
  if (p.replyToId) {
    const target = await findMessage(tx, p.replyToId, now);
    if (!target || target.channel_id !== channelId) throw invalidLink("reply_to_id");
    replyToId = target.id;
  }
  return { replyToId, threadRootId };
}

function invalidLink(field: string): AppError {
  return new InvalidInputError(`The message in "${field}" is not in this channel.`, { [field]: "Not in this channel." }, "INVALID_" + field.toUpperCase());
}

/** @everyone / @here need mention_everyone in community channels; in a DM or group DM everyone is already addressed. */
export function checkMayMentionAll(access: ChannelAccess): void {
  if (allowsIn(access, "mention_everyone")) return;
  throw new ForbiddenError("You do not have permission to mention @everyone or @here in this channel.", "MENTION_EVERYONE_DENIED");
}

/**
 * @here: the people who may read the channel and have an open socket now (any instance: the
 * presence store), at most HERE_MAX of them; never the sender. Restricted channels (private, or
 * an override denying view) are narrowed as channel:activity narrows them (realtime.ts).
 */
export const HERE_MAX = 2_000;
async function listOnlineAudience(deps: AppDeps, access: ChannelAccess, senderId: string): Promise<string[]> {
  const db = dbOf(deps);
  const presence = presenceOf(deps);
  if (!presence) return [];
  const ids = await listAudience(db, access.channel.id, HERE_MAX * 5);
  const candidates = ids.filter((id) => id !== senderId);
  const counts = await presence.store.counts(candidates);
  return candidates.filter((id) => (counts.get(id) ?? 0) > 0).slice(0, HERE_MAX);
}

/** Mentions of people who are not in the channel's community (or the DM) are dropped. */
async function keepMembers(tx: Executor, access: ChannelAccess, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = access.community
    ? await tx.selectFrom("community_members").select("user_id").where("community_id", "=", access.channel.communityId!).where("user_id", "in", ids).execute()
    : await tx.selectFrom("channel_members").select("user_id").where("channel_id", "=", access.channel.id).where("user_id", "in", ids).execute();
  const keep = new Set(rows.map((r) => r.user_id));
  return ids.filter((id) => keep.has(id));
}
