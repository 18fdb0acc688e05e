/**
 * A community owner whose account an instance admin deletes (docs/admin.md "Delete"): the
 * communities they own, and the hand-over to the heir the admin chose, inside the deletion's
 * own transaction. The transfer runs the same change as the owner's own transfer (applyChange
 * "transfer_ownership", on behalf of the departing owner), so the heir must be a member.
 */
import type { Executor, Outbox, Tx } from "../../db/tx.ts";
import type { AppDeps } from "../../deps.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { applyChange, isUuid } from "../permissions/index.ts";
import { insertCommunityAudit } from "./audit.ts";
import { queueMembershipChange } from "./events.ts";

export type OwnedCommunity = { id: string; name: string; memberCount: number };

/** The communities a user owns, by name, with their member counts (the heir candidates are the others). */
export async function listOwnedCommunities(db: Executor, userId: string): Promise<OwnedCommunity[]> {
  const rows = await db
    .selectFrom("communities as c")
    .select((eb) => ["c.id", "c.name", eb.selectFrom("community_members as m").select((m) => m.fn.countAll<string>().as("n")).whereRef("m.community_id", "=", "c.id").as("member_count")])
    .where("c.owner_id", "=", userId)
    .orderBy("c.name")
    .orderBy("c.id")
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, memberCount: Number(r.member_count ?? 0) }));
}

/** Up to `limit` members of a community who could inherit it (everyone but `exceptUserId`), admins first. */
export async function listHeirCandidates(db: Executor, communityId: string, exceptUserId: string, limit = 200): Promise<{ userId: string; username: string; displayName: string; role: string }[]> {
  const rows = await db
    .selectFrom("community_members as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select(["u.id", "u.username", "u.display_name", "m.role"])
    .where("m.community_id", "=", communityId)
    .where("m.user_id", "<>", exceptUserId)
    .where("u.suspended_at", "is", null)
    .orderBy((eb) => eb.case().when("m.role", "=", "admin").then(0).when("m.role", "=", "moderator").then(1).else(2).end())
    .orderBy("u.username")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ userId: r.id, username: r.username, displayName: r.display_name, role: r.role }));
}

export const HEIRS_REQUIRED = "OWNED_COMMUNITIES_NEED_HEIR";

/**
 * Hands every community `userId` owns to the heir named for it in `heirs` (community id → user
 * id), inside `tx`. Refuses the whole deletion — 409 OWNED_COMMUNITIES_NEED_HEIR listing them —
 * when any owned community has no heir named; an heir who is not a (non-suspended) member is 400
 * HEIR_NOT_MEMBER. Returns the transfers for the audit entry.
 */
export async function transferOwnedCommunities(deps: AppDeps, tx: Tx, outbox: Outbox, input: { userId: string; heirs: Record<string, string>; actorId: string; now: Date }): Promise<{ community_id: string; heir_id: string }[]> {
  // Lock the rows: a community created or transferred meanwhile is seen, not missed.
  const owned = await tx.selectFrom("communities").select(["id", "name"]).where("owner_id", "=", input.userId).orderBy("name").orderBy("id").forUpdate().execute();
  const missing = owned.filter((c) => !input.heirs[c.id]);
  if (missing.length > 0) {
    const list = await listOwnedCommunities(tx, input.userId);
    throw new ConflictError(`This user owns ${list.length === 1 ? "a community" : `${list.length} communities`}: choose an heir for ${missing.length === 1 ? "it" : "each"} among its members, or the account cannot be deleted.`, HEIRS_REQUIRED, undefined, {
      communities: list.filter((c) => missing.some((m) => m.id === c.id)).map((c) => ({ id: c.id, name: c.name, member_count: c.memberCount })),
    });
  }
  const transfers: { community_id: string; heir_id: string }[] = [];
  for (const c of owned) {
    const heirId = input.heirs[c.id]!;
    const heir = isUuid(heirId) && heirId !== input.userId
      ? await tx.selectFrom("community_members as m").innerJoin("users as u", "u.id", "m.user_id").select("m.user_id").where("m.community_id", "=", c.id).where("m.user_id", "=", heirId).where("u.suspended_at", "is", null).executeTakeFirst()
      : undefined;
    const notMember = () => new InvalidInputError(`The heir chosen for “${c.name}” is not one of its members.`, { heirs: `Choose a member of “${c.name}”.` }, "HEIR_NOT_MEMBER");
    if (!heir) throw notMember();
    try {
      // On behalf of the departing owner: the same rules and viewer-version bump as their own transfer.
      await applyChange(tx, { userId: input.userId, isOwner: false }, "transfer_ownership", { communityId: c.id, userId: heirId }, input.now);
    } catch (error) {
      if (error instanceof NotFoundError) throw notMember();
      throw error;
    }
    await insertCommunityAudit(tx, { communityId: c.id, actorId: input.actorId, action: "ownership_transferred", targetUserId: heirId, metadata: { from: input.userId, reason: "owner_deleted_by_instance_admin" }, at: input.now });
    queueMembershipChange(deps, outbox, { userId: heirId, communityId: c.id, kind: "role_changed", role: "owner" });
    transfers.push({ community_id: c.id, heir_id: heirId });
  }
  return transfers;
}
