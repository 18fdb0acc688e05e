/**
 * Custom roles: a name, a permission set and a position (1–999, orders members of one base rank).
 * Nobody creates or edits a role with permissions they do not hold themselves.
 */
import type { AppDeps } from "../../app.ts";
import type { Executor } from "../../db/tx.ts";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessCommunity, isUuid, requireCan, type CommunityAccess } from "../permissions/index.ts";
import { communityPermissions, ROLE_PERMISSIONS, type Permission } from "../permissions/index.ts";
import { insertCommunityAudit } from "./audit.ts";
import { queueAccessChange } from "./events.ts";
import { listCommunityChannelIds } from "./queries.ts";
import { dbOf, mutate, nowOf, requireIntRange, requireText, type ActorLike } from "./context.ts";

export type RoleView = { id: string; name: string; permissions: string[]; position: number };

function checkPermissions(access: CommunityAccess, permissions: string[]): string[] {
  const unknown = permissions.filter((p) => !(ROLE_PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length) throw new InvalidInputError(`Unknown permission: ${unknown.join(", ")}.`, { permissions: `Unknown permission: ${unknown.join(", ")}.` });
  const member = access.subject.member;
  if (!access.subject.isInstanceOwner && member) {
    const held = communityPermissions(member);
    const missing = permissions.filter((p) => !held.has(p as Permission));
    if (missing.length) throw new ForbiddenError(`You cannot grant permissions you do not have: ${missing.join(", ")}.`, "PERMISSION_DENIED");
  }
  return [...new Set(permissions)];
}

export async function listRoles(deps: AppDeps, actor: ActorLike, communityId: string): Promise<RoleView[]> {
  const db = dbOf(deps);
  await accessCommunity(db, actor, communityId, nowOf(deps));
  return db.selectFrom("community_roles").select(["id", "name", "permissions", "position"]).where("community_id", "=", communityId).orderBy("position", "desc").orderBy("name").execute();
}

/** Role names are unique per community, case-insensitively (community_roles_name_key): 409, not a constraint error. */
async function assertRoleNameFree(tx: Executor, communityId: string, name: string, exceptRoleId?: string): Promise<void> {
  let q = tx.selectFrom("community_roles").select("id").where("community_id", "=", communityId).where((eb) => eb(eb.fn("lower", ["name"]), "=", name.toLowerCase()));
  if (exceptRoleId) q = q.where("id", "!=", exceptRoleId);
  if (await q.executeTakeFirst()) throw new ConflictError("A role with that name already exists.", "ROLE_EXISTS", { name: "A role with that name already exists." });
}

export async function createRole(deps: AppDeps, actor: ActorLike, communityId: string, input: { name: string; permissions: string[]; position?: number }) {
  const name = requireText("name", "Role name", input.name, 1, 64);
  const position = requireIntRange("position", "Position", input.position ?? 1, 1, 999);
  const now = nowOf(deps);
  return mutate(deps, async (tx) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "manage_roles");
    const permissions = checkPermissions(access, input.permissions);
    await assertRoleNameFree(tx, communityId, name);
    const id = Bun.randomUUIDv7();
    await tx.insertInto("community_roles").values({ id, community_id: communityId, name, permissions, position, created_at: now }).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "role_created", targetType: "role", targetId: id, metadata: { name, permissions }, at: now });
    return { id, name, permissions, position } satisfies RoleView;
  });
}

export async function updateRole(deps: AppDeps, actor: ActorLike, communityId: string, roleId: string, input: { name?: string; permissions?: string[]; position?: number }) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "manage_roles");
    const role = isUuid(roleId) ? await tx.selectFrom("community_roles").select("id").where("id", "=", roleId).where("community_id", "=", communityId).executeTakeFirst() : undefined;
    if (!role) throw new NotFoundError("No such role.");
    const set: { name?: string; permissions?: string[]; position?: number } = {};
    if (input.name !== undefined) set.name = requireText("name", "Role name", input.name, 1, 64);
    if (set.name !== undefined) await assertRoleNameFree(tx, communityId, set.name, roleId);
    if (input.permissions !== undefined) set.permissions = checkPermissions(access, input.permissions);
    if (input.position !== undefined) set.position = requireIntRange("position", "Position", input.position, 1, 999);
    if (Object.keys(set).length) await tx.updateTable("community_roles").set(set).where("id", "=", roleId).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "role_updated", targetType: "role", targetId: roleId, metadata: set, at: now });
    // Its holders may have lost view_channel (or gained it) in any channel of the community.
    if (set.permissions) queueAccessChange(deps, outbox, { communityId, kind: "role_permissions_changed", channelIds: await listCommunityChannelIds(tx, communityId) });
  });
}

export async function deleteRole(deps: AppDeps, actor: ActorLike, communityId: string, roleId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "manage_roles");
    const role = isUuid(roleId) ? await tx.selectFrom("community_roles").select(["id", "name"]).where("id", "=", roleId).where("community_id", "=", communityId).executeTakeFirst() : undefined;
    if (!role) throw new NotFoundError("No such role.");
    await tx.deleteFrom("community_roles").where("id", "=", roleId).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "role_deleted", targetType: "role", targetId: roleId, metadata: { name: role.name }, at: now });
    // Overrides naming the role go with it (cascade), and its holders lose its permissions.
    queueAccessChange(deps, outbox, { communityId, kind: "role_permissions_changed", channelIds: await listCommunityChannelIds(tx, communityId) });
  });
}
