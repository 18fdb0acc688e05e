/**
 * Sending a message: one transaction that checks access (404), the channel's rules (archived,
 * read-only, timeout, DM blocks, slow mode), locks the channel row, allocates the next `seq`,
 * and inserts. A retried `client_id` returns the stored message; concurrent duplicates serialise
 * on the channel lock and the unique (sender_id, client_id) index turns the later one into a
 * lookup of the first, so they converge on one row without a seq gap.
 * `message:new` is published to the channel topic only after COMMIT (outbox).
 */
import type { AppDeps } from "../../app.ts";
import type { Tx } from "../../db/tx.ts";
import { AppError, ConflictError, ForbiddenError, InvalidInputError, RateLimitedError } from "../../errors.ts";
import { channelTopic } from "../../ws/topics.ts";
import { isBlockedEitherWay } from "../dms/index.ts";
import { accessChannel, type ActorRef, type ChannelAccess } from "../permissions/index.ts";
import { mutate, nowOf } from "../communities/index.ts";
import { allowsIn, isDm } from "./access.ts";
import { findByClientId, findMessage, toView, toWire, type MessageRow, type MessageView } from "./queries.ts";
import { decodeCiphertext, optionalUuid, parseMentions, requireDeviceId, requireScheme, requireUuid, type Scheme } from "./schemas.ts";
import { noteActivity } from "./realtime.ts";

export type SendInput = {
  client_id?: unknown;
  scheme?: unknown;
  ciphertext?: unknown;
  sender_device_id?: unknown;
  reply_to_id?: unknown;
  thread_root_id?: unknown;
  mentions?: unknown;
};

export type Parsed = { clientId: string; scheme: Scheme; ciphertext: Uint8Array; deviceId: string; replyToId: string | null; threadRootId: string | null; mentions: string[] };

export function parseSendInput(input: SendInput): Parsed {
  return {
    clientId: requireUuid(input.client_id, "client_id"),
    scheme: requireScheme(input.scheme),
    ciphertext: decodeCiphertext(input.ciphertext),
    deviceId: requireDeviceId(input.sender_device_id),
    replyToId: optionalUuid(input.reply_to_id, "reply_to_id"),
    threadRootId: optionalUuid(input.thread_root_id, "thread_root_id"),
    mentions: parseMentions(input.mentions),
  };
}

/** Returns the message and whether this call created it (false: the client id was seen before). */
export async function sendMessage(deps: AppDeps, actor: ActorRef, channelId: string, input: SendInput): Promise<{ message: MessageView; created: boolean }> {
  const parsed = parseSendInput(input);
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const access = await accessChannel(tx, actor, channelId, now);
    let links: Awaited<ReturnType<typeof resolveLinks>>;
    let mentions: string[];
    try {
      await checkMaySend(tx, access, actor, parsed.scheme);
      links = await resolveLinks(tx, access.channel.id, parsed, now);
      mentions = await keepMembers(tx, access, parsed.mentions);
    } catch (error) {
      // A retry of a message stored before the refusal (timed out since, say) gets the original.
      // The common retry path needs no lookup here: the INSERT's conflict below finds it.
      const seen = await findByClientId(tx, actor.userId, parsed.clientId);
      if (seen) return { message: sameChannel(seen, access), created: false };
      throw error;
    }
    // Take the channel row lock and the next seq in one statement; the lock is held until COMMIT,
    // so seq allocation, slow mode and the duplicate check are serialised per channel, and the
    // lock is held for three round trips (this UPDATE, the INSERT, COMMIT).
    const locked = await tx
      .updateTable("channels")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1) }))
      .where("id", "=", access.channel.id)
      .returning(["last_seq", "slow_mode_seconds", "message_ttl_seconds"])
      .executeTakeFirstOrThrow();
    if (locked.slow_mode_seconds > 0 && !allowsIn(access, "manage_messages")) await checkSlowMode(tx, access.channel.id, actor.userId, locked.slow_mode_seconds, now);
    const seq = Number(locked.last_seq);
    const row = await tx
      .insertInto("messages")
      .values({
        id: Bun.randomUUIDv7(),
        channel_id: access.channel.id,
        seq,
        sender_id: actor.userId,
        sender_device_id: parsed.deviceId,
        client_id: parsed.clientId,
        scheme: parsed.scheme,
        ciphertext: parsed.ciphertext,
        reply_to_id: links.replyToId,
        thread_root_id: links.threadRootId,
        mentions,
        created_at: now,
        expires_at: locked.message_ttl_seconds > 0 ? new Date(now.getTime() + locked.message_ttl_seconds * 1000) : null,
      })
      // A concurrent duplicate committed first (it held the lock before us): no row, no seq used.
      .onConflict((oc) => oc.columns(["sender_id", "client_id"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      await tx.updateTable("channels").set((eb) => ({ last_seq: eb("last_seq", "-", 1) })).where("id", "=", access.channel.id).execute();
      const winner = await findByClientId(tx, actor.userId, parsed.clientId);
      if (!winner) throw new ConflictError("That message id is being used. Try again.", "CLIENT_ID_CONFLICT");
      return { message: sameChannel(winner, access), created: false };
    }
    const message = toView(row);
    outbox.push(channelTopic(access.channel.id), { type: "message:new", message: toWire(message) });
    outbox.afterCommit(() => noteActivity(deps, access.channel.id, seq));
    return { message, created: true };
  });
}

function sameChannel(row: MessageRow, access: ChannelAccess): MessageView {
  if (row.channel_id !== access.channel.id) throw new ConflictError("That client_id was already used for a message in another channel.", "CLIENT_ID_REUSED");
  return toView(row);
}

/** The channel's rules, each with its stable code (docs/messages.md). */
export async function checkMaySend(tx: Tx, access: ChannelAccess, actor: ActorRef, scheme: Scheme): Promise<void> {
  const expected: Scheme = isDm(access) ? "pw" : "sk";
  if (scheme !== expected) throw new InvalidInputError(`Messages in this channel use the "${expected}" scheme.`, { scheme: `Must be "${expected}".` }, "INVALID_SCHEME");
  if (isDm(access)) {
    if (access.channel.kind === "dm") {
      const other = await tx.selectFrom("channel_members").select("user_id").where("channel_id", "=", access.channel.id).where("user_id", "!=", actor.userId).executeTakeFirst();
      if (other && (await isBlockedEitherWay(tx, actor.userId, other.user_id))) throw new ForbiddenError("You cannot message this person.", "BLOCKED");
    }
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

async function checkSlowMode(tx: Tx, channelId: string, userId: string, seconds: number, now: Date): Promise<void> {
  const last = await tx.selectFrom("messages").select("created_at").where("sender_id", "=", userId).where("channel_id", "=", channelId).orderBy("created_at", "desc").limit(1).executeTakeFirst();
  if (!last) return;
  const waitMs = new Date(last.created_at).getTime() + seconds * 1000 - now.getTime();
  if (waitMs > 0) throw new RateLimitedError(waitMs / 1000, `Slow mode is on: you can send again in ${Math.ceil(waitMs / 1000)} s.`, "SLOW_MODE");
}

/** Reply and thread targets must be live messages of the same channel; threads are one level. */
export async function resolveLinks(tx: Tx, channelId: string, p: Parsed, now: Date): Promise<{ replyToId: string | null; threadRootId: string | null }> {
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

/** Mentions of people who are not in the channel's community (or the DM) are dropped. */
async function keepMembers(tx: Tx, access: ChannelAccess, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = access.community
    ? await tx.selectFrom("community_members").select("user_id").where("community_id", "=", access.channel.communityId!).where("user_id", "in", ids).execute()
    : await tx.selectFrom("channel_members").select("user_id").where("channel_id", "=", access.channel.id).where("user_id", "in", ids).execute();
  const keep = new Set(rows.map((r) => r.user_id));
  return ids.filter((id) => keep.has(id));
}
