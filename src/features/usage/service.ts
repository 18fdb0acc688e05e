/**
 * Usage figures for the Usage tab (issue 15 §1, docs/admin.md "Usage"), power `analytics`. Only
 * metadata: counts of rows and bytes, never content (the server has none to show).
 *
 *   users          total, suspended, active in the last 7 and 30 days (a session used then)
 *   messages/day   the last 30 UTC days, from messages.created_at (deleted ones included)
 *   sockets        open on THIS instance (the hub's registry); other instances are not summed
 *   files          bytes and count of stored uploads (completed, not released): ciphertext sizes
 *   database       pg_database_size(current_database()) on PostgreSQL and on the embedded PGlite
 *                  (its own data files); null when the database refuses
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";

export type Usage = {
  generatedAt: Date;
  users: { total: number; suspended: number; active7d: number; active30d: number };
  messagesPerDay: { day: string; count: number }[];
  messagesTotal30d: number;
  sockets: { thisInstance: number; scope: "this_instance" };
  files: { count: number; bytes: number };
  database: { kind: "postgres" | "pglite"; bytes: number | null };
};

const DAY_MS = 86_400_000;

export async function readUsage(deps: AppDeps): Promise<Usage> {
  const db = deps.database.db;
  const now = new Date((deps.now ?? Date.now)());
  const since = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const activeSince = (days: number) =>
    db
      .selectFrom("sessions")
      .select((eb) => eb.fn.count<string>("user_id").distinct().as("n"))
      .where("last_used_at", ">=", since(days))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  const firstDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 29 * DAY_MS);
  const [users, active7d, active30d, days, files, dbBytes] = await Promise.all([
    db
      .selectFrom("users")
      .select((eb) => [eb.fn.countAll<string>().as("total"), eb.fn.count<string>("suspended_at").as("suspended")])
      .executeTakeFirstOrThrow(),
    activeSince(7),
    activeSince(30),
    sql<{ day: string; n: string }>`select to_char(date_trunc('day', created_at at time zone 'UTC'), 'YYYY-MM-DD') as day, count(*) as n from messages where created_at >= ${firstDay} group by 1`.execute(db),
    db
      .selectFrom("files")
      .select((eb) => [eb.fn.countAll<string>().as("n"), eb.fn.coalesce(eb.fn.sum<string>("size"), eb.val("0")).as("bytes")])
      .where("completed_at", "is not", null)
      .where("released_at", "is", null)
      .executeTakeFirstOrThrow(),
    sql<{ bytes: string }>`select pg_database_size(current_database()) as bytes`
      .execute(db)
      .then((r) => Number(r.rows[0]?.bytes ?? Number.NaN))
      .catch(() => Number.NaN),
  ]);
  const counts = new Map(days.rows.map((r) => [r.day, Number(r.n)]));
  const messagesPerDay = Array.from({ length: 30 }, (_, i) => {
    const day = new Date(firstDay.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    return { day, count: counts.get(day) ?? 0 };
  });
  return {
    generatedAt: now,
    users: { total: Number(users.total), suspended: Number(users.suspended), active7d, active30d },
    messagesPerDay,
    messagesTotal30d: messagesPerDay.reduce((a, d) => a + d.count, 0),
    sockets: { thisInstance: deps.hub?.localSocketCount ?? 0, scope: "this_instance" },
    files: { count: Number(files.n), bytes: Number(files.bytes) },
    database: { kind: deps.database.kind, bytes: Number.isFinite(dbBytes) ? dbBytes : null },
  };
}
