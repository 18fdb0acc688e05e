/**
 * The mail outbox (docs/meetings.md): services insert rows in their own transaction; a worker
 * started with the app (main.ts) sends due rows. Several instances may run it at once: a pass
 * claims rows with FOR UPDATE SKIP LOCKED and pushes their next_attempt_at past a lease before
 * sending, so a row is sent by one instance. A failure is retried with exponential backoff
 * (BACKOFF_MS · 2^(attempt−1)) up to MAX_ATTEMPTS, then the row is failed; the organizer sees
 * pending, sent and failed counts and the last error's category on the meeting. A sent row keeps
 * its recipient and time as the delivery record; its subject and bodies are erased.
 */
import { sql } from "kysely";
import type { AppDeps } from "../deps.ts";
import { runInTransaction, type Executor, type Tx } from "../db/tx.ts";
import { timeJob, setMailOutboxDepth } from "../metrics/registry.ts";
import { createMailSender, type MailSender } from "./mailer.ts";

export const OUTBOX_INTERVAL_MS = 5_000;
export const BACKOFF_MS = 60_000;
export const MAX_ATTEMPTS = 6;
const LEASE_MS = 10 * 60_000;
const BATCH = 20;

const dbOf = (deps: AppDeps) => deps.database.db;
const nowOf = (deps: AppDeps) => new Date((deps.now ?? Date.now)());
const mutate = <T>(deps: AppDeps, fn: (tx: Tx) => Promise<T>): Promise<T> => runInTransaction({ db: deps.database.db, events: deps.events }, (tx) => fn(tx));

export type NewMail = {
  kind: "verify" | "meeting";
  userId: string;
  meetingId?: string;
  to: string;
  subject: string;
  text: string;
  ical?: { method: "REQUEST" | "CANCEL"; content: string };
};

export async function enqueueMail(tx: Executor, mail: NewMail, now: Date): Promise<void> {
  await tx
    .insertInto("mail_outbox")
    .values({
      id: crypto.randomUUID(),
      kind: mail.kind,
      user_id: mail.userId,
      meeting_id: mail.meetingId ?? null,
      to_address: mail.to,
      subject: mail.subject,
      text_body: mail.text,
      ical: mail.ical?.content ?? null,
      ical_method: mail.ical?.method ?? null,
      next_attempt_at: now,
      created_at: now,
    })
    .execute();
}

/** What the organizer may read about a failure: a category, never the relay's own words. */
export function describeMailError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : "";
  if (code === "EAUTH") return "The mail server refused Hearth's login.";
  if (code === "ETLS" || /STARTTLS/i.test(message)) return "The mail server offers no secure connection (STARTTLS), so nothing was sent.";
  if (code === "ECONNECTION" || code === "ESOCKET" || code === "ETIMEDOUT" || code === "EDNS") return "Hearth could not reach the mail server.";
  if (code === "EENVELOPE") return "The mail server refused the address.";
  return "The mail server did not accept the message.";
}

type Claimed = { id: string; kind: "verify" | "meeting"; user_id: string | null; to_address: string; subject: string; text_body: string; ical: string | null; ical_method: "REQUEST" | "CANCEL" | null; attempts: number };

/** One pass: sends every due row (BATCH at a time). Returns counts; tests call it with their clock. */
export async function processMailOutbox(deps: AppDeps, now = nowOf(deps), sender?: MailSender): Promise<{ sent: number; failed: number; retried: number }> {
  const result = { sent: 0, failed: 0, retried: 0 };
  if (!deps.config.smtp) return result;
  const backoff = deps.mail?.backoffMs ?? BACKOFF_MS;
  const maxAttempts = deps.mail?.maxAttempts ?? MAX_ATTEMPTS;
  let own: MailSender | undefined;
  try {
    for (;;) {
      const rows: Claimed[] = await mutate(deps, async (tx) => {
        const due = await tx
          .selectFrom("mail_outbox")
          .select("id")
          .where("sent_at", "is", null)
          .where("failed_at", "is", null)
          .where("next_attempt_at", "<=", now)
          .orderBy("next_attempt_at")
          .limit(BATCH)
          .forUpdate()
          .skipLocked()
          .execute();
        if (due.length === 0) return [];
        return tx
          .updateTable("mail_outbox")
          .set({ attempts: sql`attempts + 1`, next_attempt_at: new Date(now.getTime() + LEASE_MS) })
          .where("id", "in", due.map((d) => d.id))
          .returning(["id", "kind", "user_id", "to_address", "subject", "text_body", "ical", "ical_method", "attempts"])
          .execute() as Promise<Claimed[]>;
      });
      if (rows.length === 0) return result;
      for (const row of rows) {
        // The recipient must still own the address, verified (a verification mail: still the
        // address being verified); otherwise the mail is dropped unsent.
        const user = row.user_id ? await dbOf(deps).selectFrom("users").select(["email", "email_verified_at"]).where("id", "=", row.user_id).executeTakeFirst() : undefined;
        const sameAddress = user?.email != null && user.email.toLowerCase() === row.to_address.toLowerCase();
        if (!sameAddress || (row.kind === "meeting" && !user?.email_verified_at)) {
          await dbOf(deps).updateTable("mail_outbox").set({ failed_at: now, last_error: "The address is no longer verified.", subject: "", text_body: "", ical: null }).where("id", "=", row.id).execute();
          result.failed++;
          continue;
        }
        try {
          own ??= sender ?? createMailSender(deps);
          await own!.send({ to: row.to_address, subject: row.subject, text: row.text_body, ical: row.ical && row.ical_method ? { method: row.ical_method, content: row.ical } : undefined });
          await dbOf(deps).updateTable("mail_outbox").set({ sent_at: now, last_error: null, subject: "", text_body: "", ical: null }).where("id", "=", row.id).execute();
          result.sent++;
        } catch (error) {
          const category = describeMailError(error);
          deps.log.warn("mail.send_failed", { outboxId: row.id, attempt: row.attempts, code: (error as { code?: string }).code ?? "unknown" });
          if (row.attempts >= maxAttempts) {
            await dbOf(deps).updateTable("mail_outbox").set({ failed_at: now, last_error: category }).where("id", "=", row.id).execute();
            result.failed++;
          } else {
            const delay = backoff * 2 ** (row.attempts - 1);
            await dbOf(deps).updateTable("mail_outbox").set({ next_attempt_at: new Date(now.getTime() + delay), last_error: category }).where("id", "=", row.id).execute();
            result.retried++;
          }
        }
      }
    }
  } finally {
    if (!sender) own?.close();
  }
}

/** Rows waiting to be sent (the metrics gauge hearth_mail_outbox_depth). */
export async function mailOutboxDepth(db: Executor): Promise<number> {
  const row = await db.selectFrom("mail_outbox").select((eb) => eb.fn.countAll<string>().as("n")).where("sent_at", "is", null).where("failed_at", "is", null).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export type DeliveryStatus = { pending: number; sent: number; failed: number; last_error: string | null; next_attempt_at: string | null; attempts: number };

/** The organizer's view of a meeting's mail: counts, and the latest error with the next retry. */
export async function meetingDelivery(db: Executor, meetingId: string): Promise<DeliveryStatus> {
  const rows = await db.selectFrom("mail_outbox").select(["sent_at", "failed_at", "last_error", "next_attempt_at", "attempts", "created_at"]).where("meeting_id", "=", meetingId).orderBy("created_at").execute();
  const status: DeliveryStatus = { pending: 0, sent: 0, failed: 0, last_error: null, next_attempt_at: null, attempts: 0 };
  for (const r of rows) {
    if (r.sent_at) status.sent++;
    else if (r.failed_at) status.failed++;
    else status.pending++;
    if (!r.sent_at && r.last_error) {
      status.last_error = r.last_error;
      status.attempts = r.attempts;
      status.next_attempt_at = r.failed_at ? null : new Date(r.next_attempt_at).toISOString();
    }
  }
  return status;
}

/** Starts the worker (main.ts); `stop` clears the timer and waits for a pass in progress. */
export function startMailOutbox(deps: AppDeps, intervalMs = OUTBOX_INTERVAL_MS): () => Promise<void> {
  let current: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (current || stopped) return;
    current = (async () => {
      try {
        const counts = await timeJob("mail_outbox", () => processMailOutbox(deps));
        if (counts.sent + counts.failed + counts.retried > 0) deps.log.info("mail.outbox", counts);
        setMailOutboxDepth(await mailOutboxDepth(dbOf(deps)));
      } catch (error) {
        if (!stopped) deps.log.warn("mail.outbox_failed", { error: error instanceof Error ? error.message : String(error) });
      } finally {
        current = undefined;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await current;
  };
}
