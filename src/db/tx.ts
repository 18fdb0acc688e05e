/**
 * The one way to mutate: run a function in a transaction with an outbox. Services push events
 * (to explicit topics) and after-commit callbacks into the outbox; they are delivered only after
 * COMMIT and dropped on rollback, so nobody is ever told about a change that did not happen
 * (Zulip's send_event_on_commit).
 */
import type { Transaction } from "kysely";
import type { DB } from "./schema.ts";
import type { Db } from "./open.ts";

export type Tx = Transaction<DB>;
/** Either the database or an open transaction: what query functions take first. */
export type Executor = Db | Tx;

export interface EventPublisher {
  publish(topic: string, event: unknown): void;
}

export class Outbox {
  readonly events: { topic: string; event: unknown }[] = [];
  readonly callbacks: (() => void | Promise<void>)[] = [];
  push(topic: string, event: unknown): void {
    this.events.push({ topic, event });
  }
  /** For side effects that must follow the commit (closing sockets after a revocation, say). */
  afterCommit(callback: () => void | Promise<void>): void {
    this.callbacks.push(callback);
  }
}

/** PostgreSQL's deadlock_detected: it aborted this transaction so the other could go on. */
const DEADLOCK = "40P01";
const DEADLOCK_ATTEMPTS = 3;

export function isDeadlock(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === DEADLOCK;
}

/**
 * A deadlock rolls the whole transaction back, so it runs again (at most 3 times, a fresh outbox
 * each time: nothing of a rolled-back attempt is published). The lock orders are meant to avoid
 * deadlocks; this keeps one the code did not foresee from becoming a user's 500.
 */
export async function runInTransaction<T>(
  deps: { db: Db; events: EventPublisher },
  fn: (tx: Tx, outbox: Outbox) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const outbox = new Outbox();
    let result: T;
    try {
      result = await deps.db.transaction().execute((tx) => fn(tx, outbox));
    } catch (error) {
      if (attempt < DEADLOCK_ATTEMPTS && isDeadlock(error)) continue;
      throw error;
    }
    for (const { topic, event } of outbox.events) deps.events.publish(topic, event);
    for (const callback of outbox.callbacks) await callback();
    return result;
  }
}

/** Publisher that drops events; used until the WebSocket hub is wired in. */
export const noEvents: EventPublisher = { publish: () => {} };
