/**
 * Every VOICE_SWEEP_INTERVAL_MS, on every instance:
 *  1. the seats whose socket is here and live get `seen_at = now` (proof this instance is alive);
 *  2. seats whose socket closed more than the grace ago (their instance's timer was lost: it
 *     stopped or crashed), and seats no instance refreshed for VOICE_STALE_AFTER_MS (it crashed
 *     with the socket open), are freed as DISCONNECTED;
 *  3. rings past their expiry end as TIMEOUT (their instance's timer was lost);
 *  4. every VOICE_REVALIDATE_EVERY_MS, the seats held here are re-asked against the permission
 *     model: a safety net for a change that did not announce itself (enforcement.ts).
 * Deletions are by conn_id with RETURNING, so two instances sweeping at once end a seat once.
 */
import { endSeats, revalidateSeats } from "./end.ts";
import { expireRings } from "./rings.ts";
import type { VoiceRuntime } from "./runtime.ts";
import { toSeat } from "./seats.ts";

export async function sweepVoice(rt: VoiceRuntime): Promise<void> {
  const db = rt.deps.database.db;
  const now = rt.now();
  const { graceMs, staleAfterMs, revalidateEveryMs } = rt.options;
  const live = [...rt.bindings.values()].map((b) => b.connId);
  if (live.length > 0) await db.updateTable("voice_participants").set({ seen_at: now }).where("conn_id", "in", live).where("disconnected_at", "is", null).execute();
  const expired = await db
    .selectFrom("voice_participants")
    .select("conn_id")
    .where((eb) =>
      eb.or([
        eb.and([eb("disconnected_at", "is not", null), eb("disconnected_at", "<=", new Date(now.getTime() - graceMs))]),
        eb.and([eb("disconnected_at", "is", null), eb("seen_at", "<=", new Date(now.getTime() - staleAfterMs))]),
      ]),
    )
    .execute();
  await endSeats(
    rt,
    expired.map((r) => r.conn_id),
    "DISCONNECTED",
  );
  await expireRings(rt);
  if (now.getTime() - rt.lastRevalidateMs >= revalidateEveryMs) {
    rt.lastRevalidateMs = now.getTime();
    const held = await db.selectFrom("voice_participants").selectAll().where("instance_id", "=", rt.instanceId).execute();
    await revalidateSeats(rt, held.map(toSeat));
  }
}

/** A chain of timeouts rather than an interval: the period is read again each time (tests shorten it). */
export function startSweep(rt: VoiceRuntime): void {
  clearTimeout(rt.sweepTimer);
  if (rt.stopped) return;
  rt.sweepTimer = setTimeout(() => {
    if (rt.stopped) return;
    rt.track(sweepVoice(rt).finally(() => startSweep(rt)));
  }, rt.options.sweepIntervalMs);
  rt.sweepTimer.unref?.();
}
