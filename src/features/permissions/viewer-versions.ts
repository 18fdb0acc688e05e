/**
 * Viewer-set versions (issue 11 §1, docs/crypto.md "Who can read a channel"). Every channel row
 * carries `viewer_version`; whatever changes who may read a channel bumps it in the SAME
 * transaction, so a sender that encrypted for version v is refused (409 VIEWERS_CHANGED) once
 * someone joined, left, was removed, gained or lost access, or added or revoked a device. The
 * writers, each inside its own transaction:
 *
 *   applyChange (changes.ts)        roles, assignments, role permissions, ownership → community;
 *                                   overrides, private-channel members → that channel
 *   joins, leaves, kicks, bans      communities (invites.ts, removeMembershipRows)
 *   channel privacy                 channels/service.ts updateChannel
 *   devices added / revoked         keys/service.ts → every channel the owner can be in
 *   account deletion                auth/account.ts → the same
 *
 * Locking: the rows are taken in id order (FOR NO KEY UPDATE), so two bumps never deadlock on
 * each other, and a send statement (which takes ONE channel row, then a key-share lock on its
 * sender's users row through the foreign key) never waits in a cycle with a bump: callers bump
 * before they lock a users row. While a bump's transaction is open, sends in those channels wait
 * for it and then see the new version (the send statement re-checks the locked row).
 */
import { sql } from "kysely";
import type { Executor } from "../../db/tx.ts";

export type ViewerScope = {
  /** Every channel of these communities (membership, roles, role permissions, ownership). */
  communityIds?: readonly string[];
  /** These channels (overrides, private-channel members, privacy). */
  channelIds?: readonly string[];
  /** Every channel these users may be in: their communities' channels and their DMs (devices, account deletion). */
  userIds?: readonly string[];
};

const uuids = (ids: readonly string[] | undefined) => sql`${[...(ids ?? [])]}::uuid[]`;

/** Bumps the viewer version of every channel in `scope`; returns how many rows changed. */
export async function bumpViewerVersions(tx: Executor, scope: ViewerScope): Promise<number> {
  if (!scope.communityIds?.length && !scope.channelIds?.length && !scope.userIds?.length) return 0;
  const result = await sql`
    update channels set viewer_version = viewer_version + 1
    where id in (
      select c.id from channels c
      where c.community_id = any(${uuids(scope.communityIds)})
         or c.id = any(${uuids(scope.channelIds)})
         or c.community_id in (select cm.community_id from community_members cm where cm.user_id = any(${uuids(scope.userIds)}))
         or c.id in (select m.channel_id from channel_members m join channels d on d.id = m.channel_id and d.kind in ('dm', 'group_dm')
                     where m.user_id = any(${uuids(scope.userIds)}))
      order by c.id
      for no key update
    )`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}
