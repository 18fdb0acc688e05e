/**
 * Which of these sessions may still act: not revoked, not expired, user not suspended. The
 * WebSocket hub re-checks its open sockets with this (one query per sweep), so a socket never
 * outlives its session even when a revocation notification was missed (another instance, a crash
 * between COMMIT and the notification).
 */
import type { Executor } from "../../db/tx.ts";

const CHUNK = 500;

export async function findLiveSessionIds(db: Executor, sessionIds: readonly string[], now: Date): Promise<Set<string>> {
  const live = new Set<string>();
  for (let i = 0; i < sessionIds.length; i += CHUNK) {
    const chunk = sessionIds.slice(i, i + CHUNK);
    const rows = await db
      .selectFrom("sessions as s")
      .innerJoin("users as u", "u.id", "s.user_id")
      .select("s.id")
      .where("s.id", "in", chunk)
      .where("s.revoked_at", "is", null)
      .where("s.expires_at", ">", now)
      .where("u.suspended_at", "is", null)
      .execute();
    for (const row of rows) live.add(row.id);
  }
  return live;
}
