/**
 * `applyChange(tx, actor, kind, request, now)`: the ONLY writer of custom roles, role assignments,
 * channel overrides, channel membership of community channels, base roles and ownership
 * (test/features/permissions/one-writer.test.ts fails on any other). Every kind goes through the
 * same three steps, in this order, inside the caller's transaction:
 *   1. lock the community row (FOR NO KEY UPDATE): changes to one community's hierarchy run one
 *      after the other, so the ranks decided on cannot move before the write;
 *   2. load the facts (404 for what the actor may not see) and describe the change;
 *   3. `decideChange` (hierarchy.ts) — refusal: 403 PERMISSION_DENIED / ROLE_HIERARCHY /
 *      PERMISSION_NOT_HELD — and only then the write.
 * Services keep input validation, the audit log and events.
 */
import { sql, type RawBuilder } from "kysely";
import type { Tx } from "../../db/tx.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../../errors.ts";
import { accessChannel, accessCommunity, isUuid, type ActorRef, type CommunityAccess } from "./access.ts";
import { findMembership } from "./load.ts";
import { BASE_ROLES, baseRank, type AssignableRole, type BaseRole, type CustomRole, type Subject, type PermissionContext } from "./model.ts";
import { decideChange, type BaseRoleFacts, type Change, type OverridableBaseRole, type PermissionPair, type RoleFacts, type TargetFacts } from "./hierarchy.ts";
import { bumpViewerVersions, type ViewerScope } from "./viewer-versions.ts";

export type RoleFields = { name?: string; permissions?: string[]; position?: number };
export type OverrideTarget = { baseRole: OverridableBaseRole } | { roleId: string };

export type ChangeRequests = {
  create_role: { communityId: string; name: string; permissions: string[]; position: number };
  update_role: { communityId: string; roleId: string; set: RoleFields };
  delete_role: { communityId: string; roleId: string };
  set_base_role: { communityId: string; userId: string; role: AssignableRole };
  set_custom_roles: { communityId: string; userId: string; roleIds: string[] };
  write_override: { channelId: string; target: OverrideTarget; allow: string[]; deny: string[] };
  remove_override: { channelId: string; overrideId: string };
  add_channel_member: { channelId: string; userId: string };
  remove_channel_member: { channelId: string; userId: string };
  transfer_ownership: { communityId: string; userId: string };
};

export type ChangeResults = {
  create_role: { id: string };
  update_role: { permissionsChanged: boolean };
  delete_role: { name: string };
  set_base_role: { from: BaseRole };
  set_custom_roles: { roleIds: string[] };
  write_override: { communityId: string };
  remove_override: { communityId: string };
  add_channel_member: { communityId: string };
  remove_channel_member: { communityId: string };
  transfer_ownership: { from: string; joined: boolean };
};

export type ChangeRequestKind = keyof ChangeRequests;

type Decidable = { subject: Subject; ctx: PermissionContext };
/**
 * `viewers`: whose channels' viewer sets this write may change (viewer-versions.ts), bumped in
 * the same transaction right after it; a function of the result when that decides it.
 */
type Prepared<R> = { access: Decidable; change: Change; write: () => Promise<R>; viewers: ViewerScope | ((result: R) => ViewerScope) };
type Preparer<K extends ChangeRequestKind> = (tx: Tx, actor: ActorRef, request: ChangeRequests[K], now: Date) => Promise<Prepared<ChangeResults[K]>>;

/** Throws the refusal `decideChange` gives, if any. For callers whose facts are already loaded. */
export function requireChange(access: Decidable, change: Change): void {
  const refusal = decideChange(access.subject, change, access.ctx);
  if (refusal) throw new ForbiddenError(refusal.message, refusal.code);
}

export async function applyChange<K extends ChangeRequestKind>(tx: Tx, actor: ActorRef, kind: K, request: ChangeRequests[K], now: Date): Promise<ChangeResults[K]> {
  const prepare = PREPARERS[kind] as Preparer<K>;
  const prepared = await prepare(tx, actor, request, now);
  requireChange(prepared.access, prepared.change);
  const result = await prepared.write();
  await bumpViewerVersions(tx, typeof prepared.viewers === "function" ? prepared.viewers(result) : prepared.viewers);
  return result;
}

/** Serialises hierarchy changes in one community (see the file comment). */
export async function lockCommunity(tx: Tx, communityId: string): Promise<void> {
  if (isUuid(communityId)) await tx.selectFrom("communities").select("id").where("id", "=", communityId).forNoKeyUpdate().execute();
}

/** `accessCommunity` after taking the community's hierarchy lock. */
export async function accessCommunityForChange(tx: Tx, actor: ActorRef, communityId: string, now: Date): Promise<CommunityAccess> {
  await lockCommunity(tx, communityId);
  return accessCommunity(tx, actor, communityId, now);
}

/** A community channel the actor sees, after taking its community's hierarchy lock; else 404. */
async function accessChannelForChange(tx: Tx, actor: ActorRef, channelId: string, now: Date) {
  const row = isUuid(channelId) ? await tx.selectFrom("channels").select("community_id").where("id", "=", channelId).executeTakeFirst() : undefined;
  if (row?.community_id) await lockCommunity(tx, row.community_id);
  const access = await accessChannel(tx, actor, channelId, now);
  if (!access.community) throw new NotFoundError("No such channel.");
  return { channel: access.channel, communityId: access.community.community.id, decidable: { subject: access.community.subject, ctx: access.community.ctx } };
}

// ---- facts ------------------------------------------------------------------------------------

/** SQL rank of the member row `m` (base role + highest custom-role position), as rankOf(). */
export function memberRankSql(alias: string): RawBuilder<number> {
  const m = sql.raw(alias);
  const base = sql.join(BASE_ROLES.map((r) => sql`when ${sql.lit(r)} then ${sql.lit(baseRank(r))}`), sql` `);
  return sql<number>`(case ${m}.role ${base} else 0 end
    + coalesce((select max(rr.position) from community_member_roles mrr join community_roles rr on rr.id = mrr.role_id
                where mrr.community_id = ${m}.community_id and mrr.user_id = ${m}.user_id), 0))`;
}

function baseRankSql(alias: string): RawBuilder<number> {
  const base = sql.join(BASE_ROLES.map((r) => sql`when ${sql.lit(r)} then ${sql.lit(baseRank(r))}`), sql` `);
  return sql<number>`(case ${sql.raw(alias)}.role ${base} else 0 end)`;
}

async function loadRoleFacts(tx: Tx, communityId: string, roleId: string, actorId: string): Promise<RoleFacts & { name: string }> {
  const row = isUuid(roleId)
    ? await tx
        .selectFrom("community_roles as r")
        .select(["r.id", "r.name", "r.permissions", "r.position"])
        .select([
          sql<number>`coalesce((select max(${memberRankSql("m")}) from community_member_roles mr join community_members m on m.community_id = mr.community_id and m.user_id = mr.user_id
                                where mr.role_id = r.id and mr.user_id <> ${actorId}), -1)::int`.as("top_holder_rank"),
          sql<number>`coalesce((select max(${baseRankSql("m")}) from community_member_roles mr join community_members m on m.community_id = mr.community_id and m.user_id = mr.user_id
                                where mr.role_id = r.id and mr.user_id <> ${actorId}), -1)::int`.as("top_holder_base_rank"),
        ])
        .where("r.community_id", "=", communityId)
        .where("r.id", "=", roleId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new NotFoundError("No such role in this community.");
  return { id: row.id, name: row.name, permissions: row.permissions, position: row.position, topHolderRank: Number(row.top_holder_rank), topHolderBaseRank: Number(row.top_holder_base_rank) };
}

async function loadBaseRoleFacts(tx: Tx, communityId: string, role: OverridableBaseRole, actorId: string): Promise<BaseRoleFacts> {
  const row = await tx
    .selectFrom("community_members as m")
    .select(sql<number>`coalesce(max(${memberRankSql("m")}), -1)::int`.as("top"))
    .where("m.community_id", "=", communityId)
    .where("m.role", "=", role)
    .where("m.user_id", "<>", actorId)
    .executeTakeFirstOrThrow();
  return { role, topHolderRank: Number(row.top) };
}

async function loadTargetFacts(tx: Tx, communityId: string, userId: string, now: Date): Promise<TargetFacts> {
  const member = isUuid(userId) ? await findMembership(tx, communityId, userId, now) : undefined;
  if (!member) throw new NotFoundError("That user is not a member of this community.");
  return { userId, member };
}

const EMPTY: PermissionPair = { allow: [], deny: [] };

async function loadOverrideOn(tx: Tx, communityId: string, target: OverrideTarget, actorId: string): Promise<Extract<Change, { kind: "write_override" }>["on"]> {
  return "baseRole" in target ? { base: await loadBaseRoleFacts(tx, communityId, target.baseRole, actorId) } : { role: await loadRoleFacts(tx, communityId, target.roleId, actorId) };
}

// ---- one preparer per kind: load, describe, and the write to run once allowed ----------------

const PREPARERS: { [K in ChangeRequestKind]: Preparer<K> } = {
  async create_role(tx, actor, req, now) {
    const access = await accessCommunityForChange(tx, actor, req.communityId, now);
    return {
      access,
      change: { kind: "create_role", position: req.position, permissions: req.permissions },
      viewers: {}, // nobody holds a new role yet
      async write() {
        const clash = await tx.selectFrom("community_roles").select("id").where("community_id", "=", req.communityId).where((eb) => eb(eb.fn("lower", ["name"]), "=", req.name.toLowerCase())).executeTakeFirst();
        if (clash) throw new ConflictError("A role with that name already exists.", "ROLE_EXISTS", { name: "A role with that name already exists." });
        const id = Bun.randomUUIDv7();
        await tx.insertInto("community_roles").values({ id, community_id: req.communityId, name: req.name, permissions: req.permissions, position: req.position, created_at: now }).execute();
        return { id };
      },
    };
  },

  async update_role(tx, actor, req, now) {
    const access = await accessCommunityForChange(tx, actor, req.communityId, now);
    const role = await loadRoleFacts(tx, req.communityId, req.roleId, actor.userId);
    return {
      access,
      change: { kind: "update_role", role, position: req.set.position ?? role.position, permissions: req.set.permissions ?? role.permissions },
      viewers: (r) => (r.permissionsChanged ? { communityIds: [req.communityId] } : {}),
      async write() {
        if (req.set.name !== undefined && req.set.name.toLowerCase() !== role.name.toLowerCase()) {
          const clash = await tx.selectFrom("community_roles").select("id").where("community_id", "=", req.communityId).where("id", "<>", role.id).where((eb) => eb(eb.fn("lower", ["name"]), "=", req.set.name!.toLowerCase())).executeTakeFirst();
          if (clash) throw new ConflictError("A role with that name already exists.", "ROLE_EXISTS", { name: "A role with that name already exists." });
        }
        if (Object.keys(req.set).length) await tx.updateTable("community_roles").set(req.set).where("id", "=", role.id).execute();
        return { permissionsChanged: req.set.permissions !== undefined };
      },
    };
  },

  async delete_role(tx, actor, req, now) {
    const access = await accessCommunityForChange(tx, actor, req.communityId, now);
    const role = await loadRoleFacts(tx, req.communityId, req.roleId, actor.userId);
    return {
      access,
      change: { kind: "delete_role", role },
      viewers: { communityIds: [req.communityId] },
      async write() {
        // Its assignments and the overrides naming it go with it (ON DELETE CASCADE).
        await tx.deleteFrom("community_roles").where("id", "=", role.id).execute();
        return { name: role.name };
      },
    };
  },

  async set_base_role(tx, actor, req, now) {
    const access = await accessCommunityForChange(tx, actor, req.communityId, now);
    const target = await loadTargetFacts(tx, req.communityId, req.userId, now);
    return {
      access,
      change: { kind: "set_base_role", target, to: req.role },
      viewers: { communityIds: [req.communityId] },
      async write() {
        await tx.updateTable("community_members").set({ role: req.role }).where("community_id", "=", req.communityId).where("user_id", "=", req.userId).execute();
        return { from: target.member!.role };
      },
    };
  },

  async set_custom_roles(tx, actor, req, now) {
    const access = await accessCommunityForChange(tx, actor, req.communityId, now);
    const target = await loadTargetFacts(tx, req.communityId, req.userId, now);
    const wanted = [...new Set(req.roleIds)];
    const roles: CustomRole[] =
      wanted.length && wanted.every(isUuid) ? await tx.selectFrom("community_roles").select(["id", "permissions", "position"]).where("community_id", "=", req.communityId).where("id", "in", wanted).execute() : [];
    if (roles.length !== wanted.length) throw new NotFoundError("One of those roles does not exist in this community.");
    const held = target.member!.customRoles;
    return {
      access,
      change: { kind: "set_custom_roles", target, added: roles.filter((r) => !held.some((h) => h.id === r.id)), removed: held.filter((h) => !wanted.includes(h.id)) },
      viewers: { communityIds: [req.communityId] },
      async write() {
        await tx.deleteFrom("community_member_roles").where("community_id", "=", req.communityId).where("user_id", "=", req.userId).execute();
        if (roles.length) await tx.insertInto("community_member_roles").values(roles.map((r) => ({ community_id: req.communityId, user_id: req.userId, role_id: r.id }))).execute();
        return { roleIds: wanted };
      },
    };
  },

  async write_override(tx, actor, req, now) {
    const { channel, communityId, decidable } = await accessChannelForChange(tx, actor, req.channelId, now);
    const on = await loadOverrideOn(tx, communityId, req.target, actor.userId);
    let existing = tx.selectFrom("channel_role_overrides").select(["allow", "deny"]).where("channel_id", "=", channel.id);
    existing = "baseRole" in req.target ? existing.where("base_role", "=", req.target.baseRole) : existing.where("role_id", "=", req.target.roleId);
    const before = (await existing.executeTakeFirst()) ?? EMPTY;
    return {
      access: decidable,
      change: { kind: "write_override", on, before, after: { allow: req.allow, deny: req.deny } },
      viewers: { channelIds: [channel.id] },
      async write() {
        let q = tx.deleteFrom("channel_role_overrides").where("channel_id", "=", channel.id);
        q = "baseRole" in req.target ? q.where("base_role", "=", req.target.baseRole) : q.where("role_id", "=", req.target.roleId);
        await q.execute();
        const target = "baseRole" in req.target ? { base_role: req.target.baseRole, role_id: null } : { base_role: null, role_id: req.target.roleId };
        await tx.insertInto("channel_role_overrides").values({ id: Bun.randomUUIDv7(), channel_id: channel.id, ...target, allow: req.allow, deny: req.deny }).execute();
        return { communityId };
      },
    };
  },

  async remove_override(tx, actor, req, now) {
    const { channel, communityId, decidable } = await accessChannelForChange(tx, actor, req.channelId, now);
    const row = isUuid(req.overrideId) ? await tx.selectFrom("channel_role_overrides").select(["id", "base_role", "role_id", "allow", "deny"]).where("id", "=", req.overrideId).where("channel_id", "=", channel.id).executeTakeFirst() : undefined;
    if (!row) throw new NotFoundError("No such override.");
    const on = await loadOverrideOn(tx, communityId, row.role_id ? { roleId: row.role_id } : { baseRole: row.base_role as OverridableBaseRole }, actor.userId);
    return {
      access: decidable,
      change: { kind: "write_override", on, before: { allow: row.allow, deny: row.deny }, after: EMPTY },
      viewers: { channelIds: [channel.id] },
      async write() {
        await tx.deleteFrom("channel_role_overrides").where("id", "=", row.id).execute();
        return { communityId };
      },
    };
  },

  async add_channel_member(tx, actor, req, now) {
    const { channel, communityId, decidable } = await accessChannelForChange(tx, actor, req.channelId, now);
    const target = await loadTargetFacts(tx, communityId, req.userId, now);
    return {
      access: decidable,
      change: { kind: "add_channel_member", target },
      viewers: { channelIds: [channel.id] },
      async write() {
        await tx.insertInto("channel_members").values({ channel_id: channel.id, user_id: req.userId, added_at: now }).onConflict((oc) => oc.doNothing()).execute();
        return { communityId };
      },
    };
  },

  async remove_channel_member(tx, actor, req, now) {
    const { channel, communityId, decidable } = await accessChannelForChange(tx, actor, req.channelId, now);
    const inChannel = isUuid(req.userId) ? await tx.selectFrom("channel_members").select("user_id").where("channel_id", "=", channel.id).where("user_id", "=", req.userId).executeTakeFirst() : undefined;
    if (!inChannel) throw new NotFoundError("That user is not a member of this channel.");
    const member = (await findMembership(tx, communityId, req.userId, now)) ?? null;
    return {
      access: decidable,
      change: { kind: "remove_channel_member", target: { userId: req.userId, member } },
      viewers: { channelIds: [channel.id] },
      async write() {
        await tx.deleteFrom("channel_members").where("channel_id", "=", channel.id).where("user_id", "=", req.userId).execute();
        return { communityId };
      },
    };
  },

  async transfer_ownership(tx, actor, req, now) {
    const access = await accessCommunityForChange(tx, actor, req.communityId, now);
    const member = isUuid(req.userId) ? ((await findMembership(tx, req.communityId, req.userId, now)) ?? null) : null;
    const oldOwner = access.community.ownerId;
    return {
      access,
      change: { kind: "transfer_ownership", target: { userId: req.userId, member } },
      viewers: { communityIds: [req.communityId] },
      async write() {
        if (!isUuid(req.userId)) throw new NotFoundError("That user is not a member of this community.");
        if (req.userId === oldOwner) throw new ConflictError("That user already owns this community.", "ALREADY_OWNER");
        if (!member) {
          // Recovery: the instance owner may hand the community to themselves without being a member.
          if (!(actor.isOwner && req.userId === actor.userId)) throw new NotFoundError("That user is not a member of this community.");
          await tx.insertInto("community_members").values({ community_id: req.communityId, user_id: req.userId, role: "owner", nickname: null, joined_at: now }).execute();
        } else {
          await tx.updateTable("community_members").set({ role: "owner" }).where("community_id", "=", req.communityId).where("user_id", "=", req.userId).execute();
        }
        await tx.updateTable("community_members").set({ role: "admin" }).where("community_id", "=", req.communityId).where("user_id", "=", oldOwner).execute();
        await tx.updateTable("communities").set({ owner_id: req.userId }).where("id", "=", req.communityId).execute();
        return { from: oldOwner, joined: !member };
      },
    };
  },
};

/** Every kind of request `applyChange` takes (the mutation-paths test maps routes onto them). */
export const CHANGE_REQUEST_KINDS = Object.keys(PREPARERS) as ChangeRequestKind[];
