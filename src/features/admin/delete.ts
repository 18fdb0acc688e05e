/**
 * Deleting a user as an instance admin (issue 15 §1, docs/admin.md "Delete"): the account
 * deletion users run themselves (auth's deleteUserAccount: sessions, sockets, devices, audit, one
 * transaction), preceded in that same transaction by handing each community they own to the
 * heir the admin chose. No heir for one of them → 409 OWNED_COMMUNITIES_NEED_HEIR with the list,
 * and nothing changes.
 */
import type { AppDeps } from "../../deps.ts";
import { NotFoundError } from "../../errors.ts";
import { authKernelOf, deleteUserAccount, type Actor, type RequestMeta } from "../auth/index.ts";
import { listHeirCandidates, listOwnedCommunities, transferOwnedCommunities, type OwnedCommunity } from "../communities/index.ts";
import { isUuid } from "../../shared/ids.ts";
import { checkTarget } from "./users.ts";

export type DeletionPlan = { communities: (OwnedCommunity & { candidates: { userId: string; username: string; displayName: string; role: string }[] })[] };

/** What deleting this user involves: the communities they own, each with the members who could inherit it. */
export async function deletionPlan(deps: AppDeps, userId: string): Promise<DeletionPlan> {
  const db = deps.database.db;
  if (!isUuid(userId)) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  const owned = await listOwnedCommunities(db, userId);
  return { communities: await Promise.all(owned.map(async (c) => ({ ...c, candidates: await listHeirCandidates(db, c.id, userId) }))) };
}

/** Deletes the user; `heirs` maps each community they own to the member who inherits it. */
export async function adminDeleteUser(deps: AppDeps, actor: Actor, userId: string, heirs: Record<string, string>, meta: RequestMeta): Promise<void> {
  const target = await checkTarget(deps.database.db, actor, userId);
  const kernel = authKernelOf(deps);
  await deleteUserAccount(kernel, {
    userId: target.id,
    username: target.username,
    isOwner: false, // checkTarget refused the owner
    actorId: actor.userId,
    meta,
    before: async (tx, outbox) => ({ transfers: await transferOwnedCommunities(deps, tx, outbox, { userId: target.id, heirs, actorId: actor.userId, now: new Date(kernel.now()) }) }),
  });
}
