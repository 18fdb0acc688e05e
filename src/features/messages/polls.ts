/**
 * Polls (E2EE). The question and the option texts travel as one opaque ciphertext the client
 * encrypts like a message; the server knows only the option COUNT (2–10) and counts votes by
 * option index. Access goes through the channel: send rules to create (archived, read-only,
 * timeout, blocks, `send_message`), `view_channel` to vote and read; an outsider gets 404.
 * A closed or expired poll refuses votes with 409 POLL_CLOSED. `poll:updated` (counts only) is
 * published to the channel topic after COMMIT.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor, Outbox } from "../../db/tx.ts";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { channelTopic } from "../../ws/topics.ts";
import { accessChannel, isUuid, type ActorRef, type ChannelAccess } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { allowsIn, isDm } from "./access.ts";
import { checkMaySend } from "./send.ts";
import { decodeCiphertext, encodeCiphertext, parseInstant, requireUuid } from "./schemas.ts";
import type { PollsTable } from "../../db/schema.ts";
import type { Selectable } from "kysely";

import { MAX_POLL_OPTIONS, MIN_POLL_OPTIONS } from "../../shared/poll-limits.ts";
export { MAX_POLL_OPTIONS, MIN_POLL_OPTIONS };
export const MAX_POLL_DURATION_MS = 365 * 24 * 3600 * 1000;

type PollRow = Selectable<PollsTable>;
export type Tally = { option_index: number; count: number; voter_ids?: string[] };
export type PollView = {
  id: string;
  channel_id: string;
  creator_id: string | null;
  /** The creator's name as the server knows it (nickname, else display name); null once the account is deleted. */
  creator_name: string | null;
  question_ciphertext: string;
  option_count: number;
  multi_select: boolean;
  anonymous: boolean;
  expires_at: Date | null;
  closed_at: Date | null;
  closed: boolean;
  created_at: Date;
  tallies: Tally[];
  total_voters: number;
  my_votes: number[];
};

export type CreatePollInput = { client_id?: unknown; question_ciphertext?: unknown; option_count?: unknown; multi_select?: unknown; anonymous?: unknown; expires_at?: unknown };

export async function createPoll(deps: AppDeps, actor: ActorRef, channelId: string, input: CreatePollInput): Promise<{ poll: PollView; created: boolean }> {
  const clientId = requireUuid(input.client_id, "client_id");
  const question = decodeCiphertext(input.question_ciphertext, "question_ciphertext");
  const count = input.option_count;
  if (typeof count !== "number" || !Number.isInteger(count) || count < MIN_POLL_OPTIONS || count > MAX_POLL_OPTIONS) {
    throw new InvalidInputError(`A poll has ${MIN_POLL_OPTIONS}–${MAX_POLL_OPTIONS} options.`, { option_count: `Must be ${MIN_POLL_OPTIONS}–${MAX_POLL_OPTIONS}.` }, "INVALID_OPTION_COUNT");
  }
  for (const field of ["multi_select", "anonymous"] as const) {
    if (typeof input[field] !== "boolean") throw new InvalidInputError(`The field "${field}" must be true or false.`, { [field]: "Must be a boolean." }, "INVALID_" + field.toUpperCase());
  }
  const now = nowOf(deps);
  const expiresAt = parseInstant(input.expires_at, "expires_at");
  if (expiresAt && (expiresAt.getTime() <= now.getTime() || expiresAt.getTime() > now.getTime() + MAX_POLL_DURATION_MS)) {
    throw new InvalidInputError("expires_at must be in the future and at most a year ahead.", { expires_at: "Out of range." }, "INVALID_EXPIRES_AT");
  }
  return mutate(deps, async (tx, outbox) => {
    const access = await accessChannel(tx, actor, channelId, now);
    const findSeen = () => tx.selectFrom("polls").selectAll().where("creator_id", "=", actor.userId).where("client_id", "=", clientId).executeTakeFirst();
    const answerSeen = async (seen: NonNullable<Awaited<ReturnType<typeof findSeen>>>) => {
      if (seen.channel_id !== access.channel.id) throw new ConflictError("That client_id was already used for a poll in another channel.", "CLIENT_ID_REUSED");
      return { poll: await pollView(tx, seen, actor.userId, now), created: false };
    };
    const seen = await findSeen();
    if (seen) return answerSeen(seen);
    await checkMaySend(tx, access, actor, isDm(access) ? "pw" : "sk");
    // A retry racing its original: the insert waits for it and does nothing; answer with its row.
    const row = await tx
      .insertInto("polls")
      .values({
        id: Bun.randomUUIDv7(),
        channel_id: access.channel.id,
        creator_id: actor.userId,
        client_id: clientId,
        question_ciphertext: question,
        option_count: count,
        multi_select: input.multi_select as boolean,
        anonymous: input.anonymous as boolean,
        expires_at: expiresAt,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(["creator_id", "client_id"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return answerSeen((await findSeen())!);
    const poll = await pollView(tx, row, actor.userId, now);
    publish(outbox, poll);
    return { poll, created: true };
  });
}

export async function getPoll(deps: AppDeps, actor: ActorRef, pollId: string): Promise<PollView> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const { poll } = await accessPoll(db, actor, pollId, now);
  return pollView(db, poll, actor.userId, now);
}

export const POLL_LIST_DEFAULT = 20;
export const POLL_LIST_MAX = 50;

/** A channel's polls, newest first (`?before={poll id}&limit=` 1–50, default 20). */
export async function listPolls(deps: AppDeps, actor: ActorRef, channelId: string, query: { before?: unknown; limit?: unknown }): Promise<{ polls: PollView[]; has_more: boolean }> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const { channel } = await accessChannel(db, actor, channelId, now);
  const limit = query.limit === undefined || query.limit === "" ? POLL_LIST_DEFAULT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > POLL_LIST_MAX) throw new InvalidInputError(`limit must be 1–${POLL_LIST_MAX}.`, { limit: "Invalid." }, "INVALID_LIMIT");
  let q = db.selectFrom("polls").selectAll().where("channel_id", "=", channel.id).orderBy("id", "desc").limit(limit + 1);
  if (query.before !== undefined && query.before !== "") {
    if (typeof query.before !== "string" || !isUuid(query.before)) throw new InvalidInputError("before must be a poll id.", { before: "Must be a UUID." }, "INVALID_BEFORE");
    q = q.where("id", "<", query.before.toLowerCase());
  }
  const rows = await q.execute();
  const polls: PollView[] = [];
  for (const row of rows.slice(0, limit)) polls.push(await pollView(db, row, actor.userId, now));
  return { polls, has_more: rows.length > limit };
}

/** Single-select: exactly one index (replaces the previous vote). Multi-select: the set of indexes. */
export async function vote(deps: AppDeps, actor: ActorRef, pollId: string, input: { option_indexes?: unknown }): Promise<PollView> {
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const { poll } = await accessPoll(tx, actor, pollId, now, true);
    const indexes = parseIndexes(input.option_indexes, poll);
    checkOpen(poll, now);
    await tx.deleteFrom("poll_votes").where("poll_id", "=", poll.id).where("user_id", "=", actor.userId).execute();
    await tx.insertInto("poll_votes").values(indexes.map((i) => ({ poll_id: poll.id, user_id: actor.userId, option_index: i, created_at: now }))).execute();
    const view = await pollView(tx, poll, actor.userId, now);
    publish(outbox, view);
    return view;
  });
}

export async function retractVote(deps: AppDeps, actor: ActorRef, pollId: string): Promise<PollView> {
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const { poll } = await accessPoll(tx, actor, pollId, now, true);
    checkOpen(poll, now);
    const removed = await tx.deleteFrom("poll_votes").where("poll_id", "=", poll.id).where("user_id", "=", actor.userId).returning("option_index").execute();
    const view = await pollView(tx, poll, actor.userId, now);
    if (removed.length > 0) publish(outbox, view);
    return view;
  });
}

/** The creator, or anyone with manage_messages in the channel; idempotent. */
export async function closePoll(deps: AppDeps, actor: ActorRef, pollId: string): Promise<PollView> {
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const { poll, access } = await accessPoll(tx, actor, pollId, now, true);
    if (poll.creator_id !== actor.userId && !allowsIn(access, "manage_messages")) throw new ForbiddenError("Only the poll's creator or a moderator can close it.", "PERMISSION_DENIED");
    if (poll.closed_at) return pollView(tx, poll, actor.userId, now);
    const row = await tx.updateTable("polls").set({ closed_at: now }).where("id", "=", poll.id).returningAll().executeTakeFirstOrThrow();
    const view = await pollView(tx, row, actor.userId, now);
    publish(outbox, view);
    return view;
  });
}

async function accessPoll(db: Executor, actor: ActorRef, pollId: string, now: Date, forUpdate = false): Promise<{ poll: PollRow; access: ChannelAccess }> {
  if (!isUuid(pollId)) throw new NotFoundError("No such poll.", "POLL_NOT_FOUND");
  let q = db.selectFrom("polls").selectAll().where("id", "=", pollId.toLowerCase());
  if (forUpdate) q = q.forUpdate();
  const poll = await q.executeTakeFirst();
  if (!poll) throw new NotFoundError("No such poll.", "POLL_NOT_FOUND");
  try {
    return { poll, access: await accessChannel(db, actor, poll.channel_id, now) };
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError("No such poll.", "POLL_NOT_FOUND");
    throw error;
  }
}

function isClosed(poll: PollRow, now: Date): boolean {
  return poll.closed_at !== null || (poll.expires_at !== null && new Date(poll.expires_at).getTime() <= now.getTime());
}

function checkOpen(poll: PollRow, now: Date): void {
  if (isClosed(poll, now)) throw new ConflictError("This poll is closed.", "POLL_CLOSED");
}

function parseIndexes(value: unknown, poll: PollRow): number[] {
  const bad = (message: string) => new InvalidInputError(message, { option_indexes: message }, "INVALID_OPTION_INDEXES");
  if (!Array.isArray(value) || value.length === 0) throw bad("option_indexes must be a non-empty list of option indexes.");
  const set = new Set<number>();
  for (const v of value) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= poll.option_count) throw bad(`Option indexes are 0–${poll.option_count - 1}.`);
    set.add(v);
  }
  if (!poll.multi_select && set.size !== 1) throw bad("This poll allows one choice.");
  return [...set].sort((a, b) => a - b);
}

async function pollView(db: Executor, poll: PollRow, viewerId: string, now: Date): Promise<PollView> {
  const votes = await db.selectFrom("poll_votes").select(["user_id", "option_index"]).where("poll_id", "=", poll.id).orderBy("created_at").orderBy("user_id").execute();
  // The creator's name from the server's data (as for message authors: never a client's member list).
  const creator = poll.creator_id
    ? await db
        .selectFrom("users as u")
        .innerJoin("channels as c", (j) => j.on("c.id", "=", poll.channel_id))
        .leftJoin("community_members as cm", (j) => j.onRef("cm.community_id", "=", "c.community_id").onRef("cm.user_id", "=", "u.id"))
        .select(["u.display_name", "cm.nickname"])
        .where("u.id", "=", poll.creator_id)
        .executeTakeFirst()
    : undefined;
  const tallies: Tally[] = Array.from({ length: poll.option_count }, (_, i) => (poll.anonymous ? { option_index: i, count: 0 } : { option_index: i, count: 0, voter_ids: [] }));
  const voters = new Set<string>();
  const mine: number[] = [];
  for (const v of votes) {
    const t = tallies[v.option_index];
    if (!t) continue;
    t.count += 1;
    t.voter_ids?.push(v.user_id);
    voters.add(v.user_id);
    if (v.user_id === viewerId) mine.push(v.option_index);
  }
  return {
    id: poll.id,
    channel_id: poll.channel_id,
    creator_id: poll.creator_id,
    creator_name: creator ? creator.nickname || creator.display_name : null,
    question_ciphertext: encodeCiphertext(poll.question_ciphertext)!,
    option_count: poll.option_count,
    multi_select: poll.multi_select,
    anonymous: poll.anonymous,
    expires_at: poll.expires_at,
    closed_at: poll.closed_at,
    closed: isClosed(poll, now),
    created_at: poll.created_at,
    tallies,
    total_voters: voters.size,
    my_votes: mine.sort((a, b) => a - b),
  };
}

/** Counts only: who voted is read through GET (and only for non-anonymous polls). */
function publish(outbox: Outbox, poll: PollView): void {
  outbox.push(channelTopic(poll.channel_id), {
    type: "poll:updated",
    pollId: poll.id,
    channelId: poll.channel_id,
    closed: poll.closed,
    tallies: poll.tallies.map((t) => ({ option_index: t.option_index, count: t.count })),
  });
}
