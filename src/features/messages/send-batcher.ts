/**
 * Group commit per channel (docs/decisions/0002 "Batching"). Every message of a channel bumps
 * the same row (channels.last_seq), so a channel's sends commit one after the other: each holds
 * the row lock for its statement and its WAL flush. Here, while one statement of channel C is in
 * flight from this process, later sends for C (already checked: access, rules, links) queue; when
 * it returns, up to MAX_BATCH of them go as ONE statement (insertBatch): one round trip, one row
 * lock, one WAL flush for all, seqs consecutive in queue order. A send that finds its channel
 * idle goes at once, as the one-message statement: no timer, no added latency when idle.
 *
 * Guarantees, as for a single send:
 *  - every message gets its own answer: its row, "refused" (send.ts explains it: retry, unknown
 *    device, slow mode, channel gone — one bad message does not fail the others, the statement
 *    just leaves it out) or "duplicate";
 *  - a batch never holds two messages with the same (sender, client id): the later one waits
 *    for the next batch, where it is refused and send.ts returns the stored one;
 *  - a batch that fails (the unique index: a concurrent duplicate from another process, or any
 *    error) wrote nothing, so its messages are retried one by one with the one-message statement,
 *    in queue order, each getting its own outcome or error;
 *  - `committed` (publishing message:new) runs after the COMMIT, in seq order: within a batch in
 *    its order, and batches of a channel follow one another.
 * Per process: other app instances contend on the row lock as before.
 */
import type { Executor } from "../../db/tx.ts";
import type { MessageRow } from "./queries.ts";
import { insertBatch, insertWithSeq, MAX_BATCH, orDuplicate, type Draft } from "./send-statement.ts";

export type Outcome = MessageRow | "refused" | "duplicate";

export type PendingSend = {
  draft: Draft;
  /** Slow mode does not apply to this sender (manage_messages). */
  exempt: boolean;
  /** Called once the message is committed, before the send resolves, in seq order. */
  committed: (row: MessageRow) => void;
};

type Item = PendingSend & { resolve: (outcome: Outcome) => void; reject: (error: unknown) => void };
/** A channel with a statement in flight; `queue` waits for it. */
type Lane = { queue: Item[] };

const lanesOf = new WeakMap<object, Map<string, Lane>>();

/** Sends one message through its channel's lane (see the header). `db` must not be a transaction. */
export function sendBatched(db: Executor, pending: PendingSend): Promise<Outcome> {
  let lanes = lanesOf.get(db);
  if (!lanes) lanesOf.set(db, (lanes = new Map()));
  return new Promise<Outcome>((resolve, reject) => {
    const item: Item = { ...pending, resolve, reject };
    const channelId = pending.draft.channelId;
    const busy = lanes.get(channelId);
    if (busy) {
      busy.queue.push(item);
      return;
    }
    const lane: Lane = { queue: [item] };
    lanes.set(channelId, lane);
    void drain(db, lanes, channelId, lane);
  });
}

/** Statements of one channel, one after another, until its queue is empty. Never throws. */
async function drain(db: Executor, lanes: Map<string, Lane>, channelId: string, lane: Lane): Promise<void> {
  try {
    while (lane.queue.length > 0) {
      const batch = takeBatch(lane.queue);
      if (batch.length === 1) await sendOne(db, batch[0]!);
      else await sendMany(db, batch);
    }
  } finally {
    // Same tick as the empty check above: a send arriving later finds no lane and starts one.
    lanes.delete(channelId);
  }
}

/** Up to MAX_BATCH items in queue order, at most one per (sender, client id); the rest stay queued. */
function takeBatch(queue: Item[]): Item[] {
  const batch: Item[] = [];
  const keys = new Set<string>();
  let i = 0;
  while (i < queue.length && batch.length < MAX_BATCH) {
    const item = queue[i]!;
    const key = `${item.draft.senderId}/${item.draft.parsed.clientId}`;
    if (keys.has(key)) {
      i++;
      continue;
    }
    keys.add(key);
    batch.push(item);
    queue.splice(i, 1);
  }
  return batch;
}

async function sendOne(db: Executor, item: Item): Promise<void> {
  let outcome: Outcome;
  try {
    outcome = await orDuplicate(insertWithSeq(db, item.draft, item.exempt));
  } catch (error) {
    item.reject(error);
    return;
  }
  settle(item, outcome);
}

async function sendMany(db: Executor, batch: Item[]): Promise<void> {
  let outcomes: (MessageRow | "refused")[];
  try {
    outcomes = await insertBatch(
      db,
      batch.map((item) => item.draft),
      batch.map((item) => item.exempt),
    );
  } catch {
    // Nothing was written (one statement). One by one, so each gets its own answer.
    for (const item of batch) await sendOne(db, item);
    return;
  }
  for (const [i, item] of batch.entries()) settle(item, outcomes[i]!);
}

/** Publishes a committed message (in the caller's order), then answers its send. */
function settle(item: Item, outcome: Outcome): void {
  if (typeof outcome === "object") {
    try {
      item.committed(outcome);
    } catch (error) {
      item.reject(error);
      return;
    }
  }
  item.resolve(outcome);
}
