/** Groups and channels: the public face other features use. */
export {
  MAX_CHANNELS_PER_GROUP,
  MAX_GROUPS_PER_COMMUNITY,
  MAX_TTL_SECONDS,
  createGroup,
  renameGroup,
  deleteGroup,
  createChannel,
  updateChannel,
  deleteChannel,
  setChannelOverride,
  removeChannelOverride,
  listCommunityOverrides,
} from "./service.ts";
export { insertGroupWithGeneralChannel } from "./queries.ts";
export { listVisibleGroups, visibleGroupsFor, listSubscriptionTopics, type SidebarGroup } from "./visibility.ts";
export { authorizeChannelAction, decideChannelAction, type ChannelAction, type ChannelDecision } from "./authorize.ts";
export { accessChannel } from "../permissions/index.ts";
export { listChannelViewers, describeViewerSet, findViewerSince, MAX_CHANNEL_VIEWERS, type ChannelViewer, type ViewerSet } from "./viewers.ts";
