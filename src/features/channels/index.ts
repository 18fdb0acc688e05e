/** Groups and channels: the public face other features use. */
export {
  MAX_CHANNELS_PER_GROUP,
  MAX_GROUPS_PER_COMMUNITY,
  MAX_TTL_SECONDS,
  listVisibleGroups,
  createGroup,
  renameGroup,
  deleteGroup,
  createChannel,
  updateChannel,
  deleteChannel,
  setChannelOverride,
  removeChannelOverride,
  listCommunityOverrides,
  type SidebarGroup,
} from "./service.ts";
export { insertGroupWithGeneralChannel } from "./queries.ts";
export { accessChannel } from "../permissions/index.ts";
