/**
 * The hierarchy rule for every change to who holds what (docs/permissions.md, "Changing roles"):
 * nobody grants, through any path, a permission they do not hold, and nobody acts on a role or a
 * member ranked at or above them. `decideChange` is pure like `can`, so the generated matrix
 * enumerates it; `applyChange` (changes.ts) loads its facts, asks it, and is the only writer of
 * custom roles, role assignments, channel overrides, base roles and ownership.
 */
import {
  PERMISSIONS,
  baseRank,
  basePermissions,
  can,
  channelPermissions,
  communityPermissions,
  isPermission,
  MEMBER_ACTION_PERMISSION,
  rankOf,
  subjectRank,
  type AssignableRole,
  type CustomRole,
  type MemberAction,
  type Membership,
  type Permission,
  type PermissionContext,
  type Subject,
} from "./model.ts";

/** 403 codes: the gate permission is missing / someone ranked at or above is touched / a grant exceeds what the actor holds. */
export type RefusalCode = "PERMISSION_DENIED" | "ROLE_HIERARCHY" | "PERMISSION_NOT_HELD";
export type Refusal = { code: RefusalCode; message: string };

/** Base roles an override can name (the owner is never restricted by overrides). */
export type OverridableBaseRole = AssignableRole;

/**
 * A custom role as seen by the actor. Its holders are summarised without the actor: acting on a
 * role you hold is judged by what it does to you (your own rank may not rise), not by your rank.
 */
export type RoleFacts = CustomRole & {
  /** Highest rank among the role's holders other than the actor; -1 when nobody else holds it. */
  topHolderRank: number;
  /** Highest base rank (0, 1000, 2000, 3000) among those holders; -1 when none. */
  topHolderBaseRank: number;
};

/** A base role named by an override: everyone holding it, except the actor. */
export type BaseRoleFacts = { role: OverridableBaseRole; topHolderRank: number };

export type TargetFacts = { userId: string; member: Pick<Membership, "role" | "customRoles"> | null };

export type PermissionPair = { allow: readonly string[]; deny: readonly string[] };

export type Change =
  | { kind: "create_role"; position: number; permissions: readonly string[] }
  | { kind: "update_role"; role: RoleFacts; position: number; permissions: readonly string[] }
  | { kind: "delete_role"; role: RoleFacts }
  | { kind: "set_base_role"; target: TargetFacts; to: AssignableRole }
  | { kind: "set_custom_roles"; target: TargetFacts; added: readonly CustomRole[]; removed: readonly CustomRole[] }
  /** Set or remove (after = empty) the override of one base or custom role in `ctx.channel`. */
  | { kind: "write_override"; on: { base: BaseRoleFacts } | { role: RoleFacts }; before: PermissionPair; after: PermissionPair }
  | { kind: "add_channel_member"; target: TargetFacts }
  | { kind: "remove_channel_member"; target: TargetFacts }
  | { kind: "transfer_ownership"; target: TargetFacts }
  | { kind: "act_on_member"; action: MemberAction; target: TargetFacts };

export type ChangeKind = Change["kind"];
export const CHANGE_KINDS = [
  "create_role",
  "update_role",
  "delete_role",
  "set_base_role",
  "set_custom_roles",
  "write_override",
  "add_channel_member",
  "remove_channel_member",
  "transfer_ownership",
  "act_on_member",
] as const satisfies readonly ChangeKind[];

const denied = (message: string): Refusal => ({ code: "PERMISSION_DENIED", message });
const hierarchy = (message: string): Refusal => ({ code: "ROLE_HIERARCHY", message });

/** What the actor holds: community-wide, or in `channel` after its overrides. */
export function heldPermissions(subject: Subject, channel?: PermissionContext["channel"]): Set<Permission> {
  if (subject.isInstanceOwner) return new Set(PERMISSIONS);
  if (!subject.member) return new Set();
  return channel ? channelPermissions(subject.member, channel) : communityPermissions(subject.member);
}

function notHeld(held: Set<Permission>, granted: Iterable<string>): Refusal | null {
  const missing = [...new Set(granted)].filter((p) => !isPermission(p) || !held.has(p));
  return missing.length ? { code: "PERMISSION_NOT_HELD", message: `You cannot grant permissions you do not hold: ${missing.join(", ")}.` } : null;
}

/** A custom role's rank from the actor's side: its position, and every other holder's rank. */
export function roleRank(role: RoleFacts): number {
  return Math.max(role.position, role.topHolderRank);
}

/** A base role's rank in an override: its base rank, and every other holder's rank. */
export function baseRoleRank(base: BaseRoleFacts): number {
  return Math.max(baseRank(base.role), base.topHolderRank);
}

/** The actor's rank if `roles` replaced the same-id roles they hold. */
function ownRankWith(subject: Subject, roles: readonly CustomRole[]): number {
  if (subject.isInstanceOwner || !subject.member) return subjectRank(subject);
  const byId = new Map(roles.map((r) => [r.id, r]));
  return rankOf({ role: subject.member.role, customRoles: subject.member.customRoles.map((r) => byId.get(r.id) ?? r) });
}

/**
 * Why a person-directed action is refused, or null when `can` allows it. Same decision as
 * `can(subject, action, ctx)`, told apart: PERMISSION_DENIED when the flag is missing,
 * ROLE_HIERARCHY when the target is the actor or ranks at or above them.
 */
function actOnMember(subject: Subject, action: MemberAction, target: TargetFacts, ctx: PermissionContext): Refusal | null {
  if (can(subject, action, { ...ctx, target })) return null;
  if (!subject.isInstanceOwner && !heldPermissions(subject).has(MEMBER_ACTION_PERMISSION[action])) return denied("You do not have permission to do that here.");
  if (target.userId === subject.userId) return hierarchy("You cannot do that to yourself.");
  if (target.member?.role === "owner") return hierarchy("Nobody acts on the community owner: ownership moves only by transfer.");
  return hierarchy("That member ranks at or above you.");
}

/** The decision for one change. Pure: same facts, same answer; null means allowed. */
export function decideChange(subject: Subject, change: Change, ctx: PermissionContext): Refusal | null {
  const rank = subjectRank(subject);
  switch (change.kind) {
    case "create_role": {
      if (!can(subject, "manage_roles", ctx)) return denied("You need manage_roles to create roles.");
      if (change.position >= rank) return hierarchy("A new role must rank below you: choose a lower position.");
      return notHeld(heldPermissions(subject), change.permissions);
    }
    case "update_role": {
      if (!can(subject, "manage_roles", ctx)) return denied("You need manage_roles to edit roles.");
      const { role } = change;
      if (roleRank(role) >= rank) return hierarchy("That role ranks at or above you (by its position or a member holding it).");
      if (change.position >= rank || role.topHolderBaseRank + change.position >= rank) return hierarchy("That position would rank the role or its members at or above you.");
      if (ownRankWith(subject, [{ ...role, position: change.position }]) > rank) return hierarchy("You cannot raise your own rank.");
      return notHeld(heldPermissions(subject), change.permissions.filter((p) => !role.permissions.includes(p)));
    }
    case "delete_role": {
      if (!can(subject, "manage_roles", ctx)) return denied("You need manage_roles to delete roles.");
      if (roleRank(change.role) >= rank) return hierarchy("That role ranks at or above you (by its position or a member holding it).");
      return null;
    }
    case "set_base_role": {
      const target = change.target.member;
      if (!target) return denied("That user is not a member of this community.");
      const refusal = actOnMember(subject, "change_member_role", change.target, ctx);
      if (refusal) return refusal;
      if (baseRank(change.to) >= rank || rankOf({ role: change.to, customRoles: target.customRoles }) >= rank) return hierarchy("That role would rank the member at or above you.");
      const before = communityPermissions({ ...target, timedOutUntil: null });
      return notHeld(heldPermissions(subject), basePermissions(change.to).filter((p) => !before.has(p)));
    }
    case "set_custom_roles": {
      if (!can(subject, "manage_roles", ctx)) return denied("You need manage_roles to assign roles.");
      const target = change.target.member;
      if (!target) return denied("That user is not a member of this community.");
      const refusal = actOnMember(subject, "change_member_role", change.target, ctx);
      if (refusal) return refusal;
      if ([...change.added, ...change.removed].some((r) => r.position >= rank)) return hierarchy("You can only assign or remove roles positioned below you.");
      const removed = new Set(change.removed.map((r) => r.id));
      const after = [...target.customRoles.filter((r) => !removed.has(r.id)), ...change.added];
      if (rankOf({ role: target.role, customRoles: after }) >= rank) return hierarchy("Those roles would rank the member at or above you.");
      return notHeld(heldPermissions(subject), change.added.flatMap((r) => r.permissions));
    }
    case "write_override": {
      if (!ctx.channel) return denied("Overrides belong to a channel.");
      if (!can(subject, "manage_roles", ctx)) return denied("You need manage_roles to change channel permissions.");
      const onRank = "base" in change.on ? baseRoleRank(change.on.base) : roleRank(change.on.role);
      if (onRank >= rank) return hierarchy("That role (or someone holding it) ranks at or above you.");
      // Granting = allowing something newly, or lifting a deny; both must be held here.
      const granted = [...change.after.allow.filter((p) => !change.before.allow.includes(p)), ...change.before.deny.filter((p) => !change.after.deny.includes(p))];
      return notHeld(heldPermissions(subject, ctx.channel), granted);
    }
    case "add_channel_member":
      // Only view_channel of a channel the actor sees is given: anyone in the community may be added.
      return can(subject, "manage_channels", ctx) ? null : denied("You need manage_channels to add people to this channel.");
    case "remove_channel_member": {
      if (!can(subject, "manage_channels", ctx)) return denied("You need manage_channels to take people out of this channel.");
      if (change.target.userId !== subject.userId && rankOf(change.target.member) >= rank) return hierarchy("That member ranks at or above you.");
      return null;
    }
    case "transfer_ownership":
      return can(subject, "transfer_ownership", ctx) ? null : denied("Only the owner can transfer ownership.");
    case "act_on_member":
      return actOnMember(subject, change.action, change.target, ctx);
  }
}
