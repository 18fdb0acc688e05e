/** Channels' public face: limits and the access helper the messaging feature uses. */
export { MAX_CHANNELS_PER_GROUP, MAX_GROUPS_PER_COMMUNITY, listVisibleGroups } from "./service.ts";
export { insertGroupWithGeneralChannel } from "./queries.ts";
export { channelApiRoutes } from "./routes.ts";
export { accessChannel } from "../permissions/access.ts";
