/**
 * The one permission model. Everything that decides "may this user do this in this community or
 * channel" calls `can` (pure) or the access helpers (fetch + 404 for outsiders). docs/permissions.md.
 */
export * from "./model.ts";
export { accessCommunity, accessGroup, accessChannel, requireCan, allows, isUuid, type CommunityAccess, type ChannelAccess, type ActorRef } from "./access.ts";
export { findMembership, findCommunity, findChannel, type ChannelRecord, type CommunityRecord } from "./load.ts";
