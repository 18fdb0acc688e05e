/**
 * The ONE permission model (docs/permissions.md). Every community, channel and moderation check
 * in Hearth goes through `can(subject, action, context)`: a pure function of already-loaded
 * facts, so the generated matrix test can enumerate it without a database.
 *
 * Rank: instance owner (recovery) > community owner > admin > moderator > member; inside one base
 * role, the highest custom-role position breaks ties. Actions on a person need a strictly higher
 * rank than the target's. Custom roles add permissions; channel overrides allow/deny per role.
 */

import { ADMIN_POWERS, type AdminPower } from "../auth/index.ts";

export const BASE_ROLES = ["owner", "admin", "moderator", "member"] as const;
export type BaseRole = (typeof BASE_ROLES)[number];
/** Roles a member can be given through the API (ownership moves only by transfer). */
export const ASSIGNABLE_ROLES = ["admin", "moderator", "member"] as const;
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

/** What a custom role (or a channel override) can grant. */
export const PERMISSIONS = [
  "manage_channels",
  "manage_roles",
  "kick",
  "ban",
  "timeout",
  "manage_messages",
  "pin",
  "mention_everyone",
  "invite",
  "manage_emoji",
  "view_audit_log",
  /** Create, list and revoke a channel's incoming webhooks (docs/integrations.md): they post plaintext. */
  "manage_webhooks",
  // Channel-level basics every member holds, only meaningful in overrides.
  "view_channel",
  "send_messages",
  /** Take a seat in a voice channel's call (docs/voice.md); deny it per role to make a channel listen-free. */
  "join_voice",
] as const;
export type Permission = (typeof PERMISSIONS)[number];
/** The channel-level basics are held by every member already: only overrides change them. */
export const CHANNEL_BASICS: readonly Permission[] = ["view_channel", "send_messages", "join_voice"];
export const ROLE_PERMISSIONS = PERMISSIONS.filter((p) => !CHANNEL_BASICS.includes(p));

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

const BASE_RANK: Record<BaseRole, number> = { owner: 3000, admin: 2000, moderator: 1000, member: 0 };

/** Rank of a base role alone (owner 3000, admin 2000, moderator 1000, member 0). */
export function baseRank(role: BaseRole): number {
  return BASE_RANK[role];
}
/** Above every community role: the instance owner can always recover a community. */
const INSTANCE_OWNER_RANK = 10_000;

const BASE_PERMISSIONS: Record<BaseRole, readonly Permission[]> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS,
  moderator: ["kick", "ban", "timeout", "manage_messages", "pin", "mention_everyone", "invite", "view_audit_log", "view_channel", "send_messages", "join_voice"],
  member: ["view_channel", "send_messages", "join_voice"],
};

export type CommunityPolicy = "everyone" | "moderator" | "admin";

export type CustomRole = { id: string; permissions: readonly string[]; position: number };

export type Membership = { role: BaseRole; customRoles: readonly CustomRole[]; timedOutUntil: Date | null };

/**
 * Who is acting. `member` is null for a non-member (then only the instance owner gets anything in
 * the community). `instance` carries the instance-admin flags for the `instance:<power>` actions.
 */
export type Subject = { userId: string; isInstanceOwner: boolean; member: Membership | null; instance?: { isAdmin: boolean; adminPowers: readonly string[] } };

export type ChannelFacts = {
  kind: "text" | "voice" | "announcement";
  isPrivate: boolean;
  readOnly: boolean;
  archived: boolean;
  /** Explicitly added to this (private) channel. */
  isChannelMember: boolean;
  overrides: readonly { baseRole: string | null; roleId: string | null; allow: readonly string[]; deny: readonly string[] }[];
};

export type PermissionContext = {
  community: { ownerId: string; whoCanCreateGroups: CommunityPolicy; whoCanInvite: CommunityPolicy };
  channel?: ChannelFacts;
  /** The member acted upon (kick, ban, role change…); null when they are not a member. */
  target?: { userId: string; member: Pick<Membership, "role" | "customRoles"> | null };
  now: Date;
};

export const COMMUNITY_ACTIONS = [
  "view_community",
  "edit_community",
  "delete_community",
  "transfer_ownership",
  "create_invite",
  "manage_invites",
  "create_group",
  "manage_channels",
  "manage_roles",
  "view_audit_log",
  "review_reports",
  "manage_emoji",
] as const;
export const MEMBER_ACTIONS = ["change_member_role", "kick_member", "ban_member", "timeout_member", "warn_member"] as const;
export const CHANNEL_ACTIONS = ["view_channel", "send_message", "react", "join_voice", "manage_messages", "pin_message", "mention_everyone", "manage_webhooks"] as const;
/** Instance-level powers (seeds/004): separate flags, the owner holds all of them. */
export const INSTANCE_ACTIONS = ADMIN_POWERS.map((p) => `instance:${p}` as const);
export type InstanceAction = `instance:${AdminPower}`;
export const ACTIONS = [...COMMUNITY_ACTIONS, ...MEMBER_ACTIONS, ...CHANNEL_ACTIONS, ...INSTANCE_ACTIONS] as const;
export type Action = (typeof COMMUNITY_ACTIONS)[number] | (typeof MEMBER_ACTIONS)[number] | (typeof CHANNEL_ACTIONS)[number] | InstanceAction;

export type MemberAction = (typeof MEMBER_ACTIONS)[number];

/** The permission each person-directed action needs (besides outranking the target). */
export const MEMBER_ACTION_PERMISSION: Record<MemberAction, Permission> = {
  change_member_role: "manage_roles",
  kick_member: "kick",
  ban_member: "ban",
  timeout_member: "timeout",
  warn_member: "timeout",
};

/** Rank of a membership (base role, then the highest custom-role position). Non-members: -1. */
export function rankOf(member: Pick<Membership, "role" | "customRoles"> | null): number {
  if (!member) return -1;
  const top = member.customRoles.reduce((max, r) => Math.max(max, r.position), 0);
  return BASE_RANK[member.role] + top;
}

export function subjectRank(subject: Subject): number {
  return subject.isInstanceOwner ? INSTANCE_OWNER_RANK : rankOf(subject.member);
}

/** Community-wide permissions of a member: base role plus every custom role. */
export function communityPermissions(member: Membership): Set<Permission> {
  const set = new Set<Permission>(BASE_PERMISSIONS[member.role]);
  for (const role of member.customRoles) for (const p of role.permissions) if (isPermission(p)) set.add(p);
  return set;
}

/** What a base role holds by itself. */
export function basePermissions(role: BaseRole): readonly Permission[] {
  return BASE_PERMISSIONS[role];
}

/** Applies the channel's overrides: union of denies removed, then union of allows added (allow wins). */
export function channelPermissions(member: Membership, channel: ChannelFacts): Set<Permission> {
  const set = communityPermissions(member);
  // Owners and admins are never restricted by overrides: nobody locks the admins out.
  if (member.role === "owner" || member.role === "admin") return set;
  if (channel.kind === "announcement" || channel.readOnly) {
    if (member.role === "member") set.delete("send_messages");
  }
  if (channel.isPrivate && !channel.isChannelMember) set.delete("view_channel");
  const roleIds = new Set(member.customRoles.map((r) => r.id));
  const applicable = channel.overrides.filter((o) => o.baseRole === member.role || (o.roleId !== null && roleIds.has(o.roleId)));
  for (const o of applicable) for (const p of o.deny) if (isPermission(p)) set.delete(p);
  for (const o of applicable) for (const p of o.allow) if (isPermission(p)) set.add(p);
  return set;
}

function meetsPolicy(role: BaseRole, policy: CommunityPolicy): boolean {
  if (policy === "everyone") return true;
  if (policy === "moderator") return role !== "member";
  return role === "owner" || role === "admin";
}

/** The decision. Pure: same facts, same answer. */
export function can(subject: Subject, action: Action, ctx: PermissionContext): boolean {
  if (action.startsWith("instance:")) {
    // Instance powers never come from community roles, and community roles never from them.
    const power = action.slice("instance:".length);
    return subject.isInstanceOwner || (!!subject.instance?.isAdmin && subject.instance.adminPowers.includes(power));
  }
  const member = subject.member;
  if (subject.isInstanceOwner) {
    // Recovery power: the instance owner passes every community check, even without membership,
    // and inside channels behaves like the community owner (nobody posts to an archived channel).
    if ((CHANNEL_ACTIONS as readonly string[]).includes(action)) return canInChannel({ role: "owner", customRoles: [], timedOutUntil: null }, action, ctx);
    // The community owner is never kicked, banned or demoted: ownership moves only by transfer
    // (which the instance owner may do), so a community always has an owner who is a member.
    if ((MEMBER_ACTIONS as readonly string[]).includes(action)) return ctx.target !== undefined && ctx.target.userId !== subject.userId && ctx.target.member?.role !== "owner";
    return true;
  }
  if (!member) return false;
  const perms = communityPermissions(member);
  const isOwner = member.role === "owner";
  const isAdmin = isOwner || member.role === "admin";
  switch (action) {
    case "view_community":
      return true;
    case "edit_community":
      return isAdmin;
    case "delete_community":
    case "transfer_ownership":
      return isOwner;
    case "create_invite":
      return meetsPolicy(member.role, ctx.community.whoCanInvite) || perms.has("invite");
    case "manage_invites":
      return isAdmin;
    case "create_group":
      return meetsPolicy(member.role, ctx.community.whoCanCreateGroups) || perms.has("manage_channels");
    case "manage_channels":
    case "manage_roles":
    case "view_audit_log":
    case "manage_emoji":
      return perms.has(action);
    case "review_reports":
      return perms.has("kick") || perms.has("ban") || perms.has("timeout") || perms.has("manage_messages");
    case "change_member_role":
    case "kick_member":
    case "ban_member":
    case "timeout_member":
    case "warn_member": {
      if (!ctx.target || ctx.target.userId === subject.userId) return false;
      if (!perms.has(MEMBER_ACTION_PERMISSION[action])) return false;
      return rankOf(member) > rankOf(ctx.target.member);
    }
    default:
      return canInChannel(member, action, ctx);
  }
}

function canInChannel(member: Membership, action: Action, ctx: PermissionContext): boolean {
  const channel = ctx.channel;
  if (!channel) return false;
  const perms = channelPermissions(member, channel);
  if (!perms.has("view_channel")) return false;
  const timedOut = member.timedOutUntil !== null && member.timedOutUntil.getTime() > ctx.now.getTime();
  switch (action) {
    case "view_channel":
      return true;
    case "send_message":
    case "react":
      if (channel.archived || timedOut || channel.kind === "voice") return false;
      return action === "react" || perms.has("send_messages");
    case "join_voice":
      return channel.kind === "voice" && !timedOut && !channel.archived && perms.has("join_voice");
    case "manage_messages":
      return perms.has("manage_messages");
    case "pin_message":
      return perms.has("pin") || perms.has("manage_messages");
    case "mention_everyone":
      return perms.has("mention_everyone") && !timedOut;
    case "manage_webhooks":
      // A webhook posts messages: only into a text or announcement channel that is not archived.
      return perms.has("manage_webhooks") && channel.kind !== "voice" && !channel.archived;
    default:
      return false;
  }
}

/** Members sort by this (descending) in member lists. */
export function compareRank(a: Pick<Membership, "role" | "customRoles">, b: Pick<Membership, "role" | "customRoles">): number {
  return rankOf(b) - rankOf(a);
}

const NO_COMMUNITY: PermissionContext = { community: { ownerId: "", whoCanCreateGroups: "admin", whoCanInvite: "admin" }, now: new Date(0) };

/** `can` for an instance power, from the auth kernel's Actor (the guard's `{ admin: power }` agrees). */
export function canOnInstance(actor: { userId: string; isOwner: boolean; isAdmin: boolean; adminPowers: readonly string[] }, power: AdminPower): boolean {
  return can({ userId: actor.userId, isInstanceOwner: actor.isOwner, member: null, instance: { isAdmin: actor.isAdmin, adminPowers: actor.adminPowers } }, `instance:${power}`, NO_COMMUNITY);
}
