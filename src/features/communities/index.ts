/**
 * The communities feature's public face. Other features import only from here:
 *   onMembershipChanged(deps, f)      f({userId, communityId, kind, channelIds?}) after COMMIT, before
 *                                     the topic events (the WS hub unsubscribes sockets at once)
 *   onAccessChanged(deps, f)          f({communityId, kind, channelIds, userIds?}) after COMMIT, awaited:
 *                                     overrides, private members, privacy, deletion, role permissions
 *   userOwnsCommunity(db, userId)     account deletion refuses while true
 *   listOwnedCommunities, listHeirCandidates, transferOwnedCommunities  an admin deleting an owner (departure.ts)
 * Siblings of this slice (kept apart to avoid import cycles):
 *   dms/index.ts         shareCommunityOrDm(db, a, b), isBlockedEitherWay(db, a, b)
 *   moderation/index.ts  isTimedOut(db, userId, communityId, now?), pendingMessagePurges(db)
 *   permissions/index.ts can(subject, action, ctx), accessCommunity/accessChannel/accessGroup
 *   insertCommunityAudit, queueMembershipChange, loadTarget, removeMembershipRows (slice-internal helpers)
 */
import type { Executor } from "../../db/tx.ts";
import { registerAccountDeletionBlocker, registerAccountDeletionStep, registerCommunityInviteRedeemer } from "../auth/index.ts";
import { communityInviteRedeemer } from "./invites.ts";
import { bumpViewerVersions } from "../permissions/index.ts";

export { onMembershipChanged, queueMembershipChange, onAccessChanged, queueAccessChange, type MembershipChange, type MembershipChangeKind, type MembershipListener, type AccessChange, type AccessChangeKind, type AccessListener } from "./events.ts";
export { insertCommunityAudit, listCommunityAudit, type CommunityAuditAction } from "./audit.ts";
export { loadTarget, removeMembershipRows, getCommunity } from "./service.ts";
export { dbOf, nowOf, mutate, requireText, optionalText, requireIntRange, type ActorLike } from "./context.ts";
export { listCommunitiesOf, listCommunityChannelIds, listMembers, countMembers, type CommunitySummary, type MemberView } from "./queries.ts";
export { listOwnedCommunities, listHeirCandidates, transferOwnedCommunities, HEIRS_REQUIRED, type OwnedCommunity } from "./departure.ts";
export { renderPage, formOf, optionalInt } from "./page-helpers.tsx";
export { Rail } from "./views.tsx";


export async function userOwnsCommunity(db: Executor, userId: string): Promise<boolean> {
  const row = await db.selectFrom("communities").select("id").where("owner_id", "=", userId).limit(1).executeTakeFirst();
  return row !== undefined;
}

// Account deletion refuses, with this message, while the user owns a community (the FK on
// communities.owner_id is RESTRICT as a second line of defence). Registered once, on import.
registerAccountDeletionBlocker(async (db, userId) =>
  (await userOwnsCommunity(db, userId)) ? "You own a community. Transfer its ownership or delete it before deleting your account." : null,
);
// A deleted account leaves every channel it could read: the senders there must drop its devices.
registerAccountDeletionStep(async (tx, userId) => {
  await bumpViewerVersions(tx, { userIds: [userId] });
});
// Sign-up through a community invite link (issue 13 §8): auth's registration transaction joins
// the community through this.
registerCommunityInviteRedeemer(communityInviteRedeemer);
// The webhooks feature's settings tab (docs/integrations.md) shares the settings frame.
export { SettingsFrame } from "./settings-views.tsx";
export { visibleSections } from "./settings-pages.tsx";
export { baseUrlOf } from "./routes.ts";
