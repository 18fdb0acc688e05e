/**
 * The admin wipe of a user (issue 15 §3, docs/admin.md "Data rights"): the account deletion
 * (auth's deleteUserAccount, with the heirs of an admin deletion) plus, in the same transaction,
 * every row that a deletion keeps for the others' sake: the user's messages (a deletion keeps
 * them as "Deleted user"), polls, reports they filed or that are about them or their messages,
 * community moderation entries about them, their id in others' mentions, their sign-in lockout
 * counters. After COMMIT the blobs of their files leave the blob store. Proven by the schema walk
 * of test/features/data-rights/wipe.test.ts.
 *
 * The instance audit log is the one exception: its rows are hash-chained (docs/admin.md "Audit
 * log"), so the user's past entries stay as written (their id, with no users row behind it
 * any more); the wipe's own entry names the admin, the id and counts, not the username.
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import { parseBlobId } from "../../blobs/index.ts";
import { authKernelOf, deleteUserAccount, requireFreshReauth, type Actor, type RequestMeta } from "../auth/index.ts";
import { transferOwnedCommunities } from "../communities/index.ts";
import type { Tx } from "../../db/tx.ts";

export type WipeTarget = { id: string; username: string };

async function eraseRowsOf(tx: Tx, user: WipeTarget): Promise<Record<string, number>> {
  const id = user.id;
  const n = (r: { numDeletedRows?: bigint; numUpdatedRows?: bigint }[]) => Number(r.reduce((s, x) => s + (x.numDeletedRows ?? x.numUpdatedRows ?? 0n), 0n));
  const messageIds = tx.selectFrom("messages").select("id").where("sender_id", "=", id);
  const messageIdsText = tx.selectFrom("messages").select(sql<string>`id::text`.as("id")).where("sender_id", "=", id);
  const reports = n(
    await tx
      .deleteFrom("reports")
      .where((eb) =>
        eb.or([
          eb("reporter_id", "=", id),
          eb.and([eb("target_type", "=", "user"), eb("target_id", "=", id)]),
          eb.and([eb("target_type", "=", "message"), eb("target_id", "in", messageIds)]),
        ]),
      )
      .execute(),
  );
  const moderation = n(await tx.deleteFrom("community_audit_log").where((eb) => eb.or([eb("target_user_id", "=", id), eb("target_id", "=", id), eb("target_id", "in", messageIdsText)])).execute());
  const polls = n(await tx.deleteFrom("polls").where("creator_id", "=", id).execute());
  const messages = n(await tx.deleteFrom("messages").where("sender_id", "=", id).execute());
  await sql`UPDATE messages SET mentions = array_remove(mentions, ${id}::uuid) WHERE ${id}::uuid = ANY(mentions)`.execute(tx);
  await sql`UPDATE scheduled_messages SET mentions = array_remove(mentions, ${id}::uuid) WHERE ${id}::uuid = ANY(mentions)`.execute(tx);
  const lower = user.username.toLowerCase();
  // Entries about others that name them in their metadata (an ownership transfer's "from"):
  // the entry stays for the community, without the keys naming the wiped user.
  await sql`UPDATE community_audit_log SET metadata = metadata - ARRAY(SELECT key FROM jsonb_each_text(metadata) WHERE value = ${id} OR lower(value) = ${lower})
            WHERE strpos(metadata::text, ${id}) > 0 OR strpos(lower(metadata::text), ${lower}) > 0`.execute(tx);
  await tx.deleteFrom("login_attempts").where("key", "in", [`login:${lower}`, `recover:${lower}`]).execute();
  return { messages, polls, reports, moderation_entries: moderation };
}

/**
 * Wipes the user; `heirs` maps each community they own to its new owner (as for deletion).
 * Needs the acting admin's fresh re-authentication (403 REAUTH_REQUIRED).
 */
export async function wipeUser(deps: AppDeps, actor: Actor, target: WipeTarget, heirs: Record<string, string>, meta: RequestMeta): Promise<Record<string, number>> {
  const kernel = authKernelOf(deps);
  await requireFreshReauth(kernel, actor);
  let counts: Record<string, number> = {};
  let blobIds: string[] = [];
  await deleteUserAccount(kernel, {
    userId: target.id,
    username: target.username,
    isOwner: false, // the target rules refused the owner
    actorId: actor.userId,
    meta,
    wipe: true,
    before: async (tx, outbox) => {
      const transfers = await transferOwnedCommunities(deps, tx, outbox, { userId: target.id, heirs, actorId: actor.userId, now: new Date(kernel.now()) });
      // Files they uploaded, and any attached to their messages: rows cascade, blobs go after COMMIT.
      blobIds = (
        await tx
          .selectFrom("files")
          .select("blob_id")
          .where((eb) => eb.or([eb("uploader_id", "=", target.id), eb("message_id", "in", eb.selectFrom("messages").select("id").where("sender_id", "=", target.id))]))
          .execute()
      ).map((r) => r.blob_id);
      // The transfer wrote moderation entries about the user: erased with the rest.
      counts = { ...(await eraseRowsOf(tx, target)), files: blobIds.length, communities_transferred: transfers.length };
      await tx.deleteFrom("files").where("uploader_id", "=", target.id).execute();
      return { counts, transfers: transfers.length };
    },
  });
  if (deps.blobs) {
    for (const blobId of blobIds) {
      // A blob that fails to go now is an orphan the files job removes (docs/files.md).
      await deps.blobs.deleteBlob(parseBlobId(blobId)).catch((error) => deps.log.warn("wipe.blob_delete_failed", { error: String(error) }));
    }
  }
  return counts;
}
