/**
 * Hourly cleanup: sessions that ended (revoked or expired) more than 7 days ago, with their
 * refresh tokens (ON DELETE CASCADE), and login_attempts rows that no longer lock or count.
 * Rotated refresh tokens of live sessions are kept on purpose: they are how reuse is detected.
 */
import type { AppDeps } from "../../deps.ts";
import { authKernelOf, type AuthKernel } from "./kernel.ts";
import { LOCKOUT_WINDOW_MS } from "./lockout.ts";
import { timeJob } from "../../metrics/registry.ts";

const KEEP_ENDED_MS = 7 * 24 * 3600 * 1000;
const INTERVAL_MS = 3600 * 1000;

export async function runAuthHousekeeping(kernel: AuthKernel): Promise<{ sessions: number; attempts: number }> {
  const db = kernel.deps.database.db;
  const now = kernel.now();
  const cutoff = new Date(now - KEEP_ENDED_MS);
  const sessions = await db
    .deleteFrom("sessions")
    .where((eb) => eb.or([eb("expires_at", "<", cutoff), eb("revoked_at", "<", cutoff)]))
    .returning("id")
    .execute();
  const attempts = await db
    .deleteFrom("login_attempts")
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", new Date(now))]))
    .where((eb) => eb.or([eb("last_failure_at", "is", null), eb("last_failure_at", "<", new Date(now - LOCKOUT_WINDOW_MS))]))
    .returning("key")
    .execute();
  return { sessions: sessions.length, attempts: attempts.length };
}

/** Starts the hourly timer (unref'd: it never keeps the process alive); returns a stop function. */
export function startAuthHousekeeping(deps: AppDeps): () => void {
  const kernel = authKernelOf(deps);
  const timer = setInterval(() => {
    timeJob("auth_housekeeping", () => runAuthHousekeeping(kernel)).catch((error) => deps.log.warn("auth.housekeeping_failed", { error: error instanceof Error ? error.message : String(error) }));
  }, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
