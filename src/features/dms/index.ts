/**
 * DMs' public face:
 *   shareCommunityOrDm(db, a, b)  true when a and b share a community or a DM (prekey bundle access)
 *   isBlockedEitherWay(db, a, b)  messaging refuses DM sends across a block
 */
export { shareCommunityOrDm, MAX_GROUP_DM_PEOPLE } from "./service.ts";
export { isBlockedEitherWay } from "./queries.ts";
