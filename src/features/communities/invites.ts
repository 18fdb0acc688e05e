/**
 * Community invites: a 12-character code with optional max uses and expiry (1–8760 h), revocable.
 * Accepting increments `uses` with one conditional UPDATE, so two simultaneous joins through a
 * one-use invite cannot both succeed.
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessCommunity, allows, isUuid, requireCan } from "../permissions/index.ts";
import { insertCommunityAudit } from "./audit.ts";
import { dbOf, mutate, nowOf, requireIntRange, type ActorLike } from "./context.ts";
import { queueMembershipChange } from "./events.ts";
import { insertMembership } from "./membership.ts";
import { countMembers, listCommunityChannelIds } from "./queries.ts";
import type { Executor } from "../../db/tx.ts";
import type { CommunityInviteRedeemer } from "../auth/index.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function generateCode(): string {
  // Rejection sampling keeps the 62 symbols uniform.
  let code = "";
  while (code.length < 12) {
    for (const byte of crypto.getRandomValues(new Uint8Array(24))) {
      if (byte < 248 && code.length < 12) code += ALPHABET[byte % 62];
    }
  }
  return code;
}

/** `grantsRegistration`: made by the instance's owner or an administrator, so it also lets someone without an account create one (invite_only registration). */
export type InviteView = { id: string; code: string; maxUses: number | null; uses: number; expiresAt: Date | null; revokedAt: Date | null; createdAt: Date; createdBy: string | null; createdByName: string | null; grantsRegistration: boolean };

export async function createInvite(deps: AppDeps, actor: ActorLike, communityId: string, input: { maxUses?: number | null; expiresInHours?: number | null }) {
  const maxUses = input.maxUses == null ? null : requireIntRange("max_uses", "Max uses", input.maxUses, 1, 100000);
  const hours = input.expiresInHours == null ? null : requireIntRange("expires_in_hours", "Expiry", input.expiresInHours, 1, 8760, " hours");
  const now = nowOf(deps);
  return mutate(deps, async (tx) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "create_invite", {}, "Your role cannot create invites in this community.");
    const id = Bun.randomUUIDv7();
    const code = generateCode();
    const expiresAt = hours === null ? null : new Date(now.getTime() + hours * 3600_000);
    await tx.insertInto("community_invites").values({ id, community_id: communityId, code, created_by: actor.userId, max_uses: maxUses, expires_at: expiresAt, created_at: now }).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "invite_created", targetType: "invite", targetId: id, metadata: { max_uses: maxUses, expires_in_hours: hours }, at: now });
    return { id, code, maxUses, uses: 0, expiresAt, revokedAt: null, createdAt: now, createdBy: actor.userId, createdByName: null, grantsRegistration: actor.isOwner || actor.isAdmin } satisfies InviteView;
  });
}

/** Managers see every invite; other members see the ones they made. Latest 200. */
export async function listInvites(deps: AppDeps, actor: ActorLike, communityId: string): Promise<InviteView[]> {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  let q = db
    .selectFrom("community_invites as i")
    .leftJoin("users as u", "u.id", "i.created_by")
    .select(["i.id", "i.code", "i.max_uses", "i.uses", "i.expires_at", "i.revoked_at", "i.created_at", "i.created_by", "u.display_name", "u.is_owner", "u.is_admin"])
    .where("i.community_id", "=", communityId)
    .orderBy("i.created_at", "desc")
    .limit(200);
  if (!allows(access, "manage_invites")) q = q.where("i.created_by", "=", actor.userId);
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, code: r.code, maxUses: r.max_uses, uses: r.uses, expiresAt: r.expires_at, revokedAt: r.revoked_at, createdAt: r.created_at, createdBy: r.created_by, createdByName: r.display_name, grantsRegistration: inviteGrantsRegistration(r) }));
}

export async function revokeInvite(deps: AppDeps, actor: ActorLike, communityId: string, inviteId: string) {
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    const access = await accessCommunity(tx, actor, communityId, now);
    const invite = isUuid(inviteId) ? await tx.selectFrom("community_invites").select(["id", "created_by"]).where("id", "=", inviteId).where("community_id", "=", communityId).executeTakeFirst() : undefined;
    if (!invite) throw new NotFoundError("No such invite.");
    if (invite.created_by !== actor.userId) requireCan(access, "manage_invites");
    await tx.updateTable("community_invites").set({ revoked_at: now }).where("id", "=", inviteId).where("revoked_at", "is", null).execute();
    await insertCommunityAudit(tx, { communityId, actorId: actor.userId, action: "invite_revoked", targetType: "invite", targetId: inviteId, at: now });
  });
}

export type InvitePreview = { code: string; communityId: string; name: string; description: string | null; welcomeMessage: string | null; memberCount: number; alreadyMember: boolean; banned: boolean };

const INVALID = "This invite is invalid, used up, revoked or expired.";

/** What /invite/{code} shows before joining. */
export async function previewInvite(deps: AppDeps, actor: ActorLike, code: string): Promise<InvitePreview> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const invite = await db
    .selectFrom("community_invites as i")
    .innerJoin("communities as c", "c.id", "i.community_id")
    .select(["i.code", "i.max_uses", "i.uses", "i.expires_at", "i.revoked_at", "c.id", "c.name", "c.description", "c.welcome_message"])
    .where("i.code", "=", code)
    .executeTakeFirst();
  if (!invite || invite.revoked_at || (invite.expires_at && invite.expires_at <= now) || (invite.max_uses !== null && invite.uses >= invite.max_uses)) {
    throw new NotFoundError(INVALID, "INVITE_INVALID");
  }
  const [member, ban] = await Promise.all([
    db.selectFrom("community_members").select("user_id").where("community_id", "=", invite.id).where("user_id", "=", actor.userId).executeTakeFirst(),
    db.selectFrom("community_bans").select("user_id").where("community_id", "=", invite.id).where("user_id", "=", actor.userId).executeTakeFirst(),
  ]);
  return { code: invite.code, communityId: invite.id, name: invite.name, description: invite.description, welcomeMessage: invite.welcome_message, memberCount: await countMembers(db, invite.id), alreadyMember: !!member, banned: !!ban };
}

export async function acceptInvite(deps: AppDeps, actor: ActorLike, code: string): Promise<{ communityId: string; name: string }> {
  const now = nowOf(deps);
  if (typeof code !== "string" || code.length > 64) throw new InvalidInputError(INVALID);
  return mutate(deps, async (tx, outbox) => {
    const found = await tx.selectFrom("community_invites").select(["id", "community_id"]).where("code", "=", code).executeTakeFirst();
    if (!found) throw new NotFoundError(INVALID, "INVITE_INVALID");
    const banned = await tx.selectFrom("community_bans").select("user_id").where("community_id", "=", found.community_id).where("user_id", "=", actor.userId).executeTakeFirst();
    if (banned) throw new ForbiddenError("You are banned from this community.", "BANNED");
    const member = await tx.selectFrom("community_members").select("user_id").where("community_id", "=", found.community_id).where("user_id", "=", actor.userId).executeTakeFirst();
    if (member) throw new ConflictError("You are already a member of this community.", "ALREADY_MEMBER");
    // The row lock taken by this UPDATE serialises concurrent accepts of one invite.
    const used = await tx
      .updateTable("community_invites")
      .set({ uses: sql`uses + 1` })
      .where("id", "=", found.id)
      .where("revoked_at", "is", null)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
      .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
      .returning("id")
      .executeTakeFirst();
    if (!used) throw new NotFoundError(INVALID, "INVITE_INVALID");
    if (!(await insertMembership(tx, { communityId: found.community_id, userId: actor.userId, role: "member", now }))) throw new ConflictError("You are already a member of this community.", "ALREADY_MEMBER");
    const community = await tx.selectFrom("communities").select(["id", "name"]).where("id", "=", found.community_id).executeTakeFirstOrThrow();
    const channelIds = await listCommunityChannelIds(tx, community.id);
    queueMembershipChange(deps, outbox, { userId: actor.userId, communityId: community.id, kind: "joined", channelIds, role: "member" });
    return { communityId: community.id, name: community.name };
  });
}

/** Communities that chose to be listed (settings: discoverable), for the picker's "Discover". */
export async function listDiscoverable(deps: AppDeps, actor: ActorLike, limit = 100) {
  const rows = await dbOf(deps)
    .selectFrom("communities as c")
    .select(["c.id", "c.name", "c.description"])
    .select(sql<number>`(select count(*)::int from community_members x where x.community_id = c.id)`.as("member_count"))
    .where("c.discoverable", "=", true)
    .where(sql<boolean>`not exists (select 1 from community_members m where m.community_id = c.id and m.user_id = ${actor.userId})`)
    .where(sql<boolean>`not exists (select 1 from community_bans b where b.community_id = c.id and b.user_id = ${actor.userId})`)
    .orderBy(sql`lower(c.name)`)
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, memberCount: Number(r.member_count) }));
}

/** Joining without an invite: only discoverable communities; others look like they do not exist. */
export async function joinDiscoverable(deps: AppDeps, actor: ActorLike, communityId: string): Promise<{ communityId: string; name: string }> {
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const community = isUuid(communityId) ? await tx.selectFrom("communities").select(["id", "name", "discoverable"]).where("id", "=", communityId).executeTakeFirst() : undefined;
    if (!community || !community.discoverable) throw new NotFoundError("No such community.");
    const banned = await tx.selectFrom("community_bans").select("user_id").where("community_id", "=", community.id).where("user_id", "=", actor.userId).executeTakeFirst();
    if (banned) throw new ForbiddenError("You are banned from this community.", "BANNED");
    if (!(await insertMembership(tx, { communityId: community.id, userId: actor.userId, role: "member", now }))) throw new ConflictError("You are already a member of this community.", "ALREADY_MEMBER");
    queueMembershipChange(deps, outbox, { userId: actor.userId, communityId: community.id, kind: "joined", channelIds: await listCommunityChannelIds(tx, community.id), role: "member" });
    return { communityId: community.id, name: community.name };
  });
}

/**
 * A community invite used at sign-up (auth's registration transaction calls this through the
 * redeemer registered in index.ts; src/features/auth/community-invites.ts says why). The right
 * to create an account comes from who made the invite: the instance's owner or an administrator.
 */
async function findUsableInvite(db: Executor, code: string, now: Date) {
  if (!/^[A-Za-z0-9]{1,64}$/.test(code)) return undefined;
  return db
    .selectFrom("community_invites as i")
    .leftJoin("users as u", "u.id", "i.created_by")
    .select(["i.id", "i.community_id", "u.is_owner", "u.is_admin"])
    .where("i.code", "=", code)
    .where("i.revoked_at", "is", null)
    .where((eb) => eb.or([eb("i.expires_at", "is", null), eb("i.expires_at", ">", now)]))
    .where((eb) => eb.or([eb("i.max_uses", "is", null), eb("i.uses", "<", eb.ref("i.max_uses"))]))
    .executeTakeFirst();
}

/** Whether the invite lets someone without an account create one (invite_only registration). */
export function inviteGrantsRegistration(invite: { is_owner: boolean | null; is_admin: boolean | null } | undefined): boolean {
  return invite?.is_owner === true || invite?.is_admin === true;
}

export const communityInviteRedeemer: CommunityInviteRedeemer = {
  async grantsRegistration(db, code, now) {
    return inviteGrantsRegistration(await findUsableInvite(db, code, now));
  },
  async redeem(deps, tx, outbox, { code, userId, now, requireRight }) {
    const invite = await findUsableInvite(tx, code, now);
    if (!invite || (requireRight && !inviteGrantsRegistration(invite))) return null;
    // The same conditional UPDATE as acceptInvite: its row lock serialises racing sign-ups.
    const used = await tx
      .updateTable("community_invites")
      .set({ uses: sql`uses + 1` })
      .where("id", "=", invite.id)
      .where("revoked_at", "is", null)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
      .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
      .returning("id")
      .executeTakeFirst();
    if (!used) return null;
    if (!(await insertMembership(tx, { communityId: invite.community_id, userId, role: "member", now }))) return null;
    const channelIds = await listCommunityChannelIds(tx, invite.community_id);
    queueMembershipChange(deps, outbox, { userId, communityId: invite.community_id, kind: "joined", channelIds, role: "member" });
    return { communityId: invite.community_id };
  },
};
