/**
 * History by sequence: newest first (before_seq, or the latest page), oldest first after a
 * seq (catch-up after a reconnect), or oldest first around a message (`around`: a search result
 * opened in context; `has_more` says older ones exist, `has_newer` newer ones). Deleted messages stay in the page as erased placeholders so a
 * client sees every seq; expired ones are gone. Three queries per page whatever its size.
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessChannel, type ActorRef } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { accessMessage } from "./access.ts";
import { viewOf, viewsOf, type MessageView } from "./queries.ts";
import { parseLimit, parseSeq } from "./schemas.ts";

export type HistoryQuery = { before_seq?: unknown; after_seq?: unknown; around?: unknown; limit?: unknown };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listHistory(deps: AppDeps, actor: ActorRef, channelId: string, query: HistoryQuery): Promise<{ messages: MessageView[]; has_more: boolean; has_newer?: boolean }> {
  const before = parseSeq(query.before_seq, "before_seq");
  const after = parseSeq(query.after_seq, "after_seq");
  const around = query.around === undefined || query.around === "" ? null : String(query.around);
  if ([before, after, around].filter((x) => x !== null).length > 1) throw new InvalidInputError("Use one of before_seq, after_seq and around.", { before_seq: "Use one." }, "INVALID_CURSOR");
  if (around !== null && !UUID.test(around)) throw new InvalidInputError('The field "around" must be a message id.', { around: "Invalid." }, "INVALID_AROUND");
  const limit = parseLimit(query.limit);
  const db = dbOf(deps);
  const now = nowOf(deps);
  const { channel } = await accessChannel(db, actor, channelId, now);
  if (around !== null) return listAround(deps, actor, channel.id, around.toLowerCase(), limit);
  let q = db
    .selectFrom("messages")
    .selectAll()
    .where("channel_id", "=", channel.id)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .limit(limit + 1);
  if (after !== null) q = q.where("seq", ">", after).orderBy("seq", "asc");
  else {
    if (before !== null) q = q.where("seq", "<", before);
    q = q.orderBy("seq", "desc");
  }
  const rows = await q.execute();
  const has_more = rows.length > limit;
  return { messages: await viewsOf(db, rows.slice(0, limit), actor.userId, now), has_more };
}

export async function getMessage(deps: AppDeps, actor: ActorRef, channelId: string, messageId: string): Promise<MessageView> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await accessMessage(db, actor, messageId, now);
  if (access.channel.id !== channelId.toLowerCase()) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
  return viewOf(db, access.message, actor.userId, now);
}

/**
 * `limit` messages around one (a search result opened in context), oldest first: about half
 * before it, the message itself and the rest after. The message must be a live one of this
 * channel (else 404, as for an outsider).
 */
async function listAround(deps: AppDeps, actor: ActorRef, channelId: string, messageId: string, limit: number): Promise<{ messages: MessageView[]; has_more: boolean; has_newer: boolean }> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const live = (q: ReturnType<typeof base>) => q.where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
  const base = () => db.selectFrom("messages").selectAll().where("channel_id", "=", channelId);
  const target = await live(base()).where("id", "=", messageId).executeTakeFirst();
  if (!target) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
  const olderCount = Math.floor((limit - 1) / 2);
  const newerCount = limit - 1 - olderCount;
  const [older, newer] = await Promise.all([
    live(base()).where("seq", "<", target.seq).orderBy("seq", "desc").limit(olderCount + 1).execute(),
    live(base()).where("seq", ">", target.seq).orderBy("seq", "asc").limit(newerCount + 1).execute(),
  ]);
  const rows = [...older.slice(0, olderCount).reverse(), target, ...newer.slice(0, newerCount)];
  return { messages: await viewsOf(db, rows, actor.userId, now), has_more: older.length > olderCount, has_newer: newer.length > newerCount };
}
