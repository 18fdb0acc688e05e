/**
 * Custom roles: a name, a permission set and a position (1–999, orders members of one base rank).
 * Who may create, edit or delete which role is decided by `applyChange` (permissions feature):
 * never a permission the actor does not hold, never a role ranked at or above them.
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { accessCommunity, applyChange, ROLE_PERMISSIONS, type RoleFields } from "../permissions/index.ts";
import { insertCommunityAudit } from "./audit.ts";
import { queueAccessChange } from "./events.ts";
import { listCommunityChannelIds } from "./queries.ts";
import { dbOf, mutate, nowOf, requireIntRange, requireText, type ActorLike } from "./context.ts";

export type RoleView = { id: string; name: string; permissions: string[]; position: number };

function checkPermissionNames(permissions: string[]): string[] {
  const unknown = permissions.filter((p) => !(ROLE_PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length) throw new InvalidInputError(`Unknown permission: ${unknown.join(", ")}.`, { permissions: `Unknown permission: ${unknown.join(", ")}.` });
  return [...new Set(permissions)];
}

export async function listRoles(deps: AppDeps, actor: ActorLike, communityId: string): Promise<RoleView[]> {
  const db = dbOf(deps);
  await accessCommunity(db, actor, communityId, nowOf(deps));
  return db.selectFrom("community_roles").select(["id", "name", "permissions", "position"]).where("community_id", "=", communityId).orderBy("position", "desc").orderBy("name").execute();
}

export async function createRole(deps: AppDeps, actor: ActorLike, communityId: string, input: { name: string; permissions: string[]; position?: number }) {
  const name = requireText("name", "Role name", input.name, 1, 64);
  const position = requireIntRange("position", "Position", input.position ?? 1, 1, 999);
  const permissions = checkPermissionNames(input.permissions);
  const now = nowOf(deps);
  return mutate(deps, async (tx) => {
    const { id } = await applyChange(tx, actor, "create_role", { communityId, name, permissions, position }, now);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "role_created", targetType: "role", targetId: id, metadata: { name, permissions }, at: now });
    return { id, name, permissions, position } satisfies RoleView;
  });
}

export async function updateRole(deps: AppDeps, actor: ActorLike, communityId: string, roleId: string, input: { name?: string; permissions?: string[]; position?: number }) {
  const set: RoleFields = {};
  if (input.name !== undefined) set.name = requireText("name", "Role name", input.name, 1, 64);
  if (input.permissions !== undefined) set.permissions = checkPermissionNames(input.permissions);
  if (input.position !== undefined) set.position = requireIntRange("position", "Position", input.position, 1, 999);
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { permissionsChanged } = await applyChange(tx, actor, "update_role", { communityId, roleId, set }, now);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "role_updated", targetType: "role", targetId: roleId, metadata: set, at: now });
    // Its holders may have lost view_channel (or gained it) in any channel of the community.
    if (permissionsChanged) queueAccessChange(deps, outbox, { communityId, kind: "role_permissions_changed", channelIds: await listCommunityChannelIds(tx, communityId) });
    // Open pages re-fetch their channel list (a channel may have appeared or gone for its holders).
    if (permissionsChanged) outbox.push(`community:${communityId}`, { type: "role:updated", community_id: communityId, role_id: roleId });
  });
}

export async function deleteRole(deps: AppDeps, actor: ActorLike, communityId: string, roleId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { name } = await applyChange(tx, actor, "delete_role", { communityId, roleId }, now);
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "role_deleted", targetType: "role", targetId: roleId, metadata: { name }, at: now });
    // Overrides naming the role go with it (cascade), and its holders lose its permissions.
    queueAccessChange(deps, outbox, { communityId, kind: "role_permissions_changed", channelIds: await listCommunityChannelIds(tx, communityId) });
    outbox.push(`community:${communityId}`, { type: "role:deleted", community_id: communityId, role_id: roleId });
  });
}
