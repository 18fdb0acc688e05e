/**
 * The statements that store a message with its seq (send.ts header, docs/decisions/0002):
 *
 *   insertWithSeq  one message: bump last_seq, insert the row — one self-committing statement
 *   insertBatch    N messages of one channel: bump last_seq by the number accepted, insert them
 *                  with consecutive seqs in the given order — one statement, one row lock, one
 *                  WAL flush (group commit, send-batcher.ts)
 *
 * Both write only rows whose client id is new, whose sender's device is registered and whose
 * viewer_version (when given) is not older than the channel's (viewer-versions.ts); a refused
 * row takes no seq. A concurrent duplicate that committed first makes the unique (sender_id,
 * client_id) index fail the statement, which rolls back whole (no seq used): see orDuplicate.
 */
import { CompiledQuery, sql } from "kysely";
import type { Executor } from "../../db/tx.ts";
import { deviceRegisteredCondition, deviceRegisteredConditionOn } from "../keys/index.ts";
import type { MessageRow } from "./queries.ts";
import type { Parsed } from "./send.ts";

export type Draft = {
  id: string;
  channelId: string;
  senderId: string;
  parsed: Parsed;
  links: { replyToId: string | null; threadRootId: string | null };
  mentions: string[];
  /** @here: who was online at send time (send.ts listOnlineAudience); [] otherwise. */
  hereIds: string[];
  now: Date;
};

type Stored = { seq: number | string; expires_at: Date | string | null };

/**
 * The seq and the row in one statement. "refused": nothing written — the client id exists, the
 * device is not registered, the ciphertext was encrypted for an older viewer set than the
 * channel's (checked on the locked row: a viewer change committed while this statement waited
 * for the lock is seen), slow mode applies (unless `slowModeChecked`), or the channel is gone.
 */
export async function insertWithSeq(ex: Executor, d: Draft, slowModeChecked: boolean): Promise<MessageRow | "refused"> {
  const p = d.parsed;
  const statement = sql<Stored>`
    with locked as (
      update channels set last_seq = last_seq + 1
      where id = ${d.channelId}::uuid
        and (slow_mode_seconds = 0 or ${slowModeChecked}::boolean)
        and not exists (select 1 from messages where sender_id = ${d.senderId}::uuid and client_id = ${p.clientId}::uuid)
        and ${deviceRegisteredCondition(d.senderId, p.deviceId)}
        and (${p.viewerVersion}::bigint is null or viewer_version <= ${p.viewerVersion}::bigint)
      returning id, last_seq, message_ttl_seconds
    )
    insert into messages (id, channel_id, seq, sender_id, sender_device_id, client_id, scheme, ciphertext, reply_to_id, thread_root_id, mentions, mention_all, here_ids, created_at, expires_at)
    select ${d.id}::uuid, locked.id, locked.last_seq, ${d.senderId}::uuid, ${p.deviceId}::text, ${p.clientId}::uuid, ${p.scheme}::text, ${p.ciphertext}::bytea,
      ${d.links.replyToId}::uuid, ${d.links.threadRootId}::uuid, ${d.mentions}::uuid[], ${p.mentionAll}::text, ${d.hereIds}::uuid[], ${d.now}::timestamptz,
      case when locked.message_ttl_seconds > 0 then ${d.now}::timestamptz + locked.message_ttl_seconds * interval '1 second' end
    from locked
    returning seq, expires_at`;
  const { rows } = await statement.execute(ex);
  const stored = rows[0];
  return stored ? rowOf(d, stored) : "refused";
}

/** The most messages one batch statement carries (its parameters: 14 per message). */
export const MAX_BATCH = 64;

const BATCH_COLUMNS = 14;
const batchTexts = new Map<number, string>();

/**
 * The text for n messages, built once per n (so each size is one prepared statement per
 * connection). `input` keeps the caller's order (k); `ok` drops rows whose client id exists, whose
 * device is not registered or whose viewer_version is older than the channel's, and numbers the
 * rest 1..m in that order; the UPDATE takes the row lock and adds m (not at all when m = 0, when
 * slow mode applies to someone in the batch, or when the locked row's viewer_version moved past
 * the oldest accepted one while the statement waited: then every message is "refused" and
 * send.ts explains each);
 * every accepted row gets seq last_seq - m + its number.
 */
function batchText(n: number): string {
  let text = batchTexts.get(n);
  if (text) return text;
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = 2 + i * BATCH_COLUMNS; // $1 is the channel id
    rows.push(
      `(${i + 1}, $${b}::uuid, $${b + 1}::uuid, $${b + 2}::text, $${b + 3}::uuid, $${b + 4}::text, $${b + 5}::bytea, $${b + 6}::uuid, $${b + 7}::uuid, $${b + 8}::uuid[], $${b + 9}::timestamptz, $${b + 10}::boolean, $${b + 11}::bigint, $${b + 12}::text, $${b + 13}::uuid[])`,
    );
  }
  text = `with input (k, id, sender_id, sender_device_id, client_id, scheme, ciphertext, reply_to_id, thread_root_id, mentions, created_at, exempt, viewer_version, mention_all, here_ids) as (
  values ${rows.join(",\n    ")}
), ok as (
  select input.*, row_number() over (order by k) as n from input
  where not exists (select 1 from messages m where m.sender_id = input.sender_id and m.client_id = input.client_id)
    and ${deviceRegisteredConditionOn("input.sender_id", "input.sender_device_id")}
    and (input.viewer_version is null or input.viewer_version >= (select v.viewer_version from channels v where v.id = $1::uuid))
), total as (
  select count(*)::int as m, coalesce(bool_and(exempt), true) as exempt, min(viewer_version) as viewer_version from ok
), locked as (
  update channels set last_seq = channels.last_seq + total.m
  from total
  where channels.id = $1::uuid and total.m > 0 and (channels.slow_mode_seconds = 0 or total.exempt)
    and (total.viewer_version is null or channels.viewer_version <= total.viewer_version)
  returning channels.id, channels.last_seq, channels.message_ttl_seconds, total.m
)
insert into messages (id, channel_id, seq, sender_id, sender_device_id, client_id, scheme, ciphertext, reply_to_id, thread_root_id, mentions, mention_all, here_ids, created_at, expires_at)
select ok.id, locked.id, locked.last_seq - locked.m + ok.n, ok.sender_id, ok.sender_device_id, ok.client_id, ok.scheme, ok.ciphertext,
  ok.reply_to_id, ok.thread_root_id, ok.mentions, ok.mention_all, ok.here_ids, ok.created_at,
  case when locked.message_ttl_seconds > 0 then ok.created_at + locked.message_ttl_seconds * interval '1 second' end
from ok cross join locked
returning id, seq, expires_at`;
  batchTexts.set(n, text);
  return text;
}

/**
 * Several messages of ONE channel in one statement, seqs consecutive in the given order. Returns
 * each message's row, or "refused" (client id seen, device not registered; every message when
 * slow mode applies to one of them or the channel is gone). `exempt[i]`: slow mode does not
 * apply to message i's sender. Throws (nothing written) when the unique (sender_id, client_id)
 * index refuses a row: a concurrent duplicate committed first, or two of `drafts` share a key.
 */
export async function insertBatch(ex: Executor, drafts: readonly Draft[], exempt: readonly boolean[]): Promise<(MessageRow | "refused")[]> {
  if (drafts.length === 0) return [];
  const params: unknown[] = [drafts[0]!.channelId];
  for (const [i, d] of drafts.entries()) {
    if (d.channelId !== drafts[0]!.channelId) throw new Error("insertBatch: one channel per batch");
    const p = d.parsed;
    params.push(d.id, d.senderId, p.deviceId, p.clientId, p.scheme, p.ciphertext, d.links.replyToId, d.links.threadRootId, d.mentions, d.now, exempt[i] ?? false, p.viewerVersion, p.mentionAll, d.hereIds);
  }
  const { rows } = await ex.executeQuery<Stored & { id: string }>(CompiledQuery.raw(batchText(drafts.length), params));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return drafts.map((d) => {
    const stored = byId.get(d.id);
    return stored ? rowOf(d, stored) : "refused";
  });
}

/** The row as stored: the rest is what we sent, not read back (the ciphertext would cross twice). */
function rowOf(d: Draft, stored: Stored): MessageRow {
  const p = d.parsed;
  return {
    id: d.id,
    channel_id: d.channelId,
    seq: Number(stored.seq),
    sender_id: d.senderId,
    sender_device_id: p.deviceId,
    client_id: p.clientId,
    scheme: p.scheme,
    ciphertext: p.ciphertext,
    reply_to_id: d.links.replyToId,
    thread_root_id: d.links.threadRootId,
    mentions: d.mentions,
    mention_all: p.mentionAll,
    here_ids: d.hereIds,
    created_at: d.now,
    edited_at: null,
    deleted_at: null,
    expires_at: stored.expires_at === null ? null : new Date(stored.expires_at),
  } as MessageRow;
}

/** The unique (sender_id, client_id) index refused the statement (or its transaction): "duplicate". */
export function orDuplicate<T>(pending: Promise<T>): Promise<T | "duplicate"> {
  return pending.catch((error: unknown) => {
    if (isDuplicateClientId(error)) return "duplicate" as const;
    throw error;
  });
}

export function isDuplicateClientId(error: unknown): boolean {
  const e = error as { code?: unknown; constraint_name?: unknown; constraint?: unknown; message?: unknown } | null;
  if (e?.code !== "23505") return false;
  const constraint = String(e.constraint_name ?? e.constraint ?? e.message ?? "");
  return constraint.includes("messages_sender_client_key");
}
