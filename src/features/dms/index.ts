/**
 * DMs' public face:
 *   shareCommunityOrDm(db, a, b)  true when a and b share a community or a DM (prekey bundle access)
 *   isBlockedEitherWay(db, a, b)  messaging refuses DM sends across a block
 *   isDmPartnerBlocked(db, channelId, userId)  the same for a 1:1 DM's other participant, one query
 *   relationTo(db, actor, userId) + isVisibleTo(relation, actor)  may the actor learn this account
 *                                 exists? (reports; anything else that takes a user id from a stranger)
 */
export { listDms, type DmView } from "./service.ts";
export { shareCommunityOrDm, relationTo, isVisibleTo, MAX_GROUP_DM_PEOPLE } from "./service.ts";
export { isBlockedEitherWay, isDmPartnerBlocked } from "./queries.ts";
