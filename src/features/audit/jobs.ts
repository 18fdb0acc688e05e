/**
 * The audit jobs (docs/admin.md "Audit log"), started by main.ts and safe on several instances:
 *  - seal: every SEAL_INTERVAL_MS, committed rows join the chain (a cheap look first, so an idle
 *    instance takes no lock);
 *  - anchor: hourly, when the head moved, the head is written to the log as `audit.anchor`, a
 *    line operators ship off the server (a log collector, or copied by hand) and can later check
 *    with `hearthctl audit verify --anchor "…"`;
 *  - retention: daily when AUDIT_RETENTION_DAYS > 0, older rows are pruned behind a signed checkpoint.
 */
import type { AppDeps } from "../../deps.ts";
import { anchorText, pruneAuditLog, sealAuditLog } from "./chain.ts";

export const SEAL_INTERVAL_MS = 5_000;
export const ANCHOR_INTERVAL_MS = 3_600_000;
export const RETENTION_INTERVAL_MS = 86_400_000;

/** Seals and, when the head moved since the last anchor, logs a new anchor. Returns the anchor logged, if any. */
export async function anchorAuditLog(deps: AppDeps): Promise<string | null> {
  const db = deps.database.db;
  const { head } = await sealAuditLog(db, deps.secrets.auditKey);
  // Claimed with a conditional update: one instance logs each new head.
  const claimed = await db.updateTable("audit_chain").set({ anchored_pos: head.pos }).where("id", "=", 1).where("anchored_pos", "<", String(head.pos)).executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return null;
  const text = anchorText(head);
  deps.log.info("audit.anchor", { anchor: text });
  return text;
}

export function startAuditJobs(deps: AppDeps): () => Promise<void> {
  let stopped = false;
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, name: string, work: () => Promise<unknown>) => {
    let current: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (current || stopped) return;
      current = work()
        .catch((error: unknown) => {
          if (!stopped) deps.log.warn(`audit.${name}_failed`, { error: error instanceof Error ? error.message : String(error) });
        })
        .finally(() => {
          running.delete(current!);
          current = undefined;
        });
      running.add(current);
    }, ms);
    timer.unref?.();
    return timer;
  };
  const db = deps.database.db;
  const timers = [
    every(SEAL_INTERVAL_MS, "seal", async () => {
      const pending = await db.selectFrom("audit_log").select("id").where("chain_pos", "is", null).limit(1).executeTakeFirst();
      if (pending) await sealAuditLog(db, deps.secrets.auditKey);
    }),
    every(ANCHOR_INTERVAL_MS, "anchor", () => anchorAuditLog(deps)),
  ];
  const days = deps.config.auditRetentionDays;
  if (days > 0) {
    timers.push(
      every(RETENTION_INTERVAL_MS, "prune", async () => {
        const now = new Date(deps.now?.() ?? Date.now());
        const checkpoint = await pruneAuditLog(db, deps.secrets.auditKey, new Date(now.getTime() - days * 86_400_000), now);
        if (checkpoint) deps.log.info("audit.pruned", { checkpoint_pos: checkpoint.pos, pruned_rows_total: checkpoint.prunedRows });
      }),
    );
  }
  return async () => {
    stopped = true;
    for (const t of timers) clearInterval(t);
    await Promise.all(running);
  };
}
