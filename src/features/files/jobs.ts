/**
 * The files job (docs/files.md "Lifecycle"), run-once for tests and on an interval from main.ts.
 * Every step is safe with several instances running it at once (idempotent deletes).
 *
 *  1. Expired uploads: rows no message and no scheduled message carries, past expires_at (24 h
 *     after their start) — row deleted (quota released), then the blob.
 *  2. Released files (their message was deleted or purged) — row deleted, then the blob.
 *  3. Orphan walk: every stored blob without a row (files, or images for the public images) (its message was hard-deleted or expired,
 *     its channel or uploader deleted — rows that went by CASCADE), older than ORPHAN_GRACE_MS,
 *     is removed. A blob with a row — a live message's, a scheduled message's, an upload in
 *     progress — is never touched.
 *  4. Leftovers of writes a crash interrupted (the local store's temporaries).
 * Rows go first, blobs after: a blob whose deletion fails is found again by the walk.
 */
import type { AppDeps } from "../../deps.ts";
import { MAX_LIST_LIMIT, parseBlobId, type BlobId } from "../../blobs/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { blobIdsWithImages } from "../images/index.ts";
import { FILE_JOB_INTERVAL_MS, ORPHAN_GRACE_MS } from "./limits.ts";

const BATCH = 500;

export type FileCollection = { expired: number; released: number; orphans: number; temporaries: number };

export async function collectFiles(deps: AppDeps, opts: { now?: Date; orphanGraceMs?: number } = {}): Promise<FileCollection> {
  const now = opts.now ?? nowOf(deps);
  const db = dbOf(deps);
  const blobs = deps.blobs!;
  const removeAll = async (ids: string[]) => {
    for (const id of ids) await blobs.deleteBlob(parseBlobId(id));
  };
  let expired = 0;
  for (;;) {
    const rows = await db
      .deleteFrom("files")
      .where("id", "in", (eb) => eb.selectFrom("files").select("id").where("message_id", "is", null).where("scheduled_message_id", "is", null).where("expires_at", "<=", now).limit(BATCH))
      .where("message_id", "is", null)
      .where("scheduled_message_id", "is", null)
      .returning("blob_id")
      .execute();
    await removeAll(rows.map((r) => r.blob_id));
    expired += rows.length;
    if (rows.length < BATCH) break;
  }
  let released = 0;
  for (;;) {
    const rows = await db
      .deleteFrom("files")
      .where("id", "in", (eb) => eb.selectFrom("files").select("id").where("released_at", "is not", null).limit(BATCH))
      .returning("blob_id")
      .execute();
    await removeAll(rows.map((r) => r.blob_id));
    released += rows.length;
    if (rows.length < BATCH) break;
  }
  const graceMs = opts.orphanGraceMs ?? ORPHAN_GRACE_MS;
  let orphans = 0;
  let after: BlobId | undefined;
  do {
    const page = await blobs.listBlobs({ after, limit: MAX_LIST_LIMIT });
    after = page.next;
    if (page.blobs.length === 0) break;
    const ids = page.blobs.map((b) => b.id);
    const known = new Set((await db.selectFrom("files").select("blob_id").where("blob_id", "in", ids).execute()).map((r) => r.blob_id));
    // Public images (avatars, icons, banners, emoji) share the store: a blob with an images row stays.
    for (const id of await blobIdsWithImages(db, ids)) known.add(id);
    for (const blob of page.blobs) {
      if (known.has(blob.id) || blob.modifiedAt.getTime() > now.getTime() - graceMs) continue;
      // Checked again just before: a row created since the page was read keeps its blob.
      const row = await db.selectFrom("files").select("id").where("blob_id", "=", blob.id).executeTakeFirst();
      if (row || (await blobIdsWithImages(db, [blob.id])).size > 0) continue;
      await blobs.deleteBlob(blob.id);
      orphans++;
    }
  } while (after);
  const temporaries = await blobs.sweepTemporaries(graceMs);
  return { expired, released, orphans, temporaries };
}

/** Starts the interval; returns `stop` (waits for a run in progress). */
export function startFileJobs(deps: AppDeps, intervalMs = FILE_JOB_INTERVAL_MS): () => Promise<void> {
  let current: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (current || stopped || !deps.blobs) return;
    current = (async () => {
      try {
        const done = await collectFiles(deps);
        if (done.expired + done.released + done.orphans + done.temporaries > 0) deps.log.info("files.jobs", done);
      } catch (error) {
        if (!stopped) deps.log.warn("files.jobs_failed", { error: error instanceof Error ? error.message : String(error) });
      } finally {
        current = undefined;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  const first = setTimeout(tick, Math.min(30_000, intervalMs));
  first.unref?.();
  return async () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(first);
    await current;
  };
}
