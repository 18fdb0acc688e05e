/**
 * Joining a community: the one place that inserts a member row for a join (invite, discover,
 * creating a community), so every join also gives the community's channels a new viewer version
 * (permissions/viewer-versions.ts) in the same transaction. Removals: removeMembershipRows.
 */
import type { Tx } from "../../db/tx.ts";
import { bumpViewerVersions } from "../permissions/index.ts";

/** Inserts the member row; false when the user already is a member (nothing changed). */
export async function insertMembership(tx: Tx, m: { communityId: string; userId: string; role: "owner" | "member"; now: Date }): Promise<boolean> {
  const inserted = await tx
    .insertInto("community_members")
    .values({ community_id: m.communityId, user_id: m.userId, role: m.role, nickname: null, joined_at: m.now })
    .onConflict((oc) => oc.doNothing())
    .returning("user_id")
    .executeTakeFirst();
  if (inserted) await bumpViewerVersions(tx, { communityIds: [m.communityId] });
  return inserted !== undefined;
}
