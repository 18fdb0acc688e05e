/**
 * DMs and group DMs, and user blocking. A DM exists between two users who share a community (or
 * whose target allows DMs from anyone), never across a block: a group DM is refused (403 BLOCKED,
 * nothing written) when the creator and any listed person blocked each other either way.
 * A stranger (no shared community or conversation) learns nothing from these routes: an unknown
 * id, a suspended account, someone who does not take DMs from strangers and someone who blocked
 * them all get the same 404, from the same single query (`findRelation`).
 * Participants are fixed at creation: there is no "join by id" (the reference let anyone join a
 * DM knowing its UUID) and no adding people later (a new group DM is created instead).
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { isUuid } from "../permissions/index.ts";
import { dbOf, mutate, nowOf, type ActorLike } from "../communities/index.ts";
import type { Executor } from "../../db/tx.ts";
import { findRelation, shareCommunity, shareDm, type Relation } from "./queries.ts";

export const MAX_GROUP_DM_PEOPLE = 10;

/** For the key service (who may fetch prekey bundles) and presence: do a and b know each other? */
export async function shareCommunityOrDm(db: Executor, a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  return (await shareCommunity(db, a, b)) || (await shareDm(db, a, b));
}

type UserBrief = { id: string; username: string; displayName: string };

/** The actor and this person already know each other: a shared community or conversation. */
function acquainted(relation: Relation, actor: ActorLike): boolean {
  return relation.sharesCommunity || relation.sharesDm || actor.isOwner;
}

/**
 * May the actor learn that this account exists? Acquaintances, people on the actor's own block
 * list, and anyone who accepts DMs from anyone (unless suspended). Everyone else is answered
 * exactly like an unknown id, by DM creation, the block routes and reports alike.
 */
export function isVisibleTo(relation: Relation, actor: ActorLike): boolean {
  return acquainted(relation, actor) || relation.blockedByActor || (relation.allowDmsFromAnyone && !relation.suspended);
}

/** The relation to a user id, undefined for a malformed or unknown id (one query either way). */
export async function relationTo(db: Executor, actor: ActorLike, userId: string): Promise<Relation | undefined> {
  return isUuid(userId) ? findRelation(db, actor.userId, userId.toLowerCase()) : undefined;
}

async function requireDmAllowed(db: Executor, actor: ActorLike, targetId: string): Promise<UserBrief> {
  const target = await relationTo(db, actor, targetId);
  // Unknown, suspended, not taking DMs from strangers, and (for a stranger) blocked look the
  // same: no user enumeration, and nobody learns through this endpoint that they were blocked.
  const unreachable = () => new NotFoundError("You cannot message that user.", "USER_NOT_REACHABLE");
  if (!target || target.suspended) throw unreachable();
  if (target.id === actor.userId) throw new InvalidInputError("You cannot start a conversation with yourself.", { user_id: "Pick someone else." });
  if (target.blockedByActor || target.blockedByTarget) {
    if (!acquainted(target, actor)) throw unreachable();
    throw new ForbiddenError("You cannot message this user: one of you has blocked the other.", "BLOCKED");
  }
  const allowed = target.allowDmsFromAnyone || actor.isOwner || target.sharesCommunity;
  if (!allowed) throw unreachable();
  return { id: target.id, username: target.username, displayName: target.displayName };
}

export type DmView = { channelId: string; kind: "dm" | "group_dm"; participants: UserBrief[]; createdAt: Date };

/** Get-or-create the one DM between the actor and `targetId`. */
export async function openDm(deps: AppDeps, actor: ActorLike, targetId: string): Promise<DmView> {
  const now = nowOf(deps);
  const channelId = await mutate(deps, async (tx, outbox) => {
    // Checked inside the transaction: a block made a moment ago is seen.
    const target = await requireDmAllowed(tx, actor, targetId);
    const [a, b] = actor.userId < target.id ? [actor.userId, target.id] : [target.id, actor.userId];
    const existing = await tx.selectFrom("dm_pairs").select("channel_id").where("user_a", "=", a).where("user_b", "=", b).executeTakeFirst();
    if (existing) return existing.channel_id;
    const id = Bun.randomUUIDv7();
    await tx.insertInto("channels").values({ id, kind: "dm", community_id: null, group_id: null, name: null, topic: null, created_by: actor.userId, created_at: now }).execute();
    const won = await tx.insertInto("dm_pairs").values({ user_a: a, user_b: b, channel_id: id }).onConflict((oc) => oc.doNothing()).returning("channel_id").executeTakeFirst();
    if (!won) {
      // A concurrent request created the pair first: drop ours, use theirs.
      await tx.deleteFrom("channels").where("id", "=", id).execute();
      return (await tx.selectFrom("dm_pairs").select("channel_id").where("user_a", "=", a).where("user_b", "=", b).executeTakeFirstOrThrow()).channel_id;
    }
    await tx.insertInto("channel_members").values([a, b].map((user_id) => ({ channel_id: id, user_id, added_at: now }))).execute();
    // The other person's open pages list the new conversation (with its badge) without a reload;
    // opening an existing DM again announces nothing.
    outbox.push(`user:${target.id}`, { type: "dm:created", channel_id: id });
    return id;
  });
  return (await getDm(deps, actor, channelId))!;
}

export async function openGroupDm(deps: AppDeps, actor: ActorLike, userIds: string[]): Promise<DmView> {
  const others = [...new Set(userIds)].filter((id) => id !== actor.userId);
  if (others.length === 0) throw new InvalidInputError("Choose someone to message.", { user_ids: "Choose someone to message." });
  if (others.length < 2) throw new InvalidInputError("A group conversation needs at least two other people.", { user_ids: "Pick at least two people." });
  if (others.length + 1 > MAX_GROUP_DM_PEOPLE) throw new InvalidInputError(`A group conversation has at most ${MAX_GROUP_DM_PEOPLE} people, you included.`, { user_ids: `At most ${MAX_GROUP_DM_PEOPLE - 1} others.` }, "GROUP_DM_LIMIT");
  const now = nowOf(deps);
  const id = Bun.randomUUIDv7();
  await mutate(deps, async (tx, outbox) => {
    // Every listed person is checked before anything is written (a block either way refuses the
    // whole group, naming the person so the actor knows whom to take off the list).
    for (const other of others) {
      try {
        await requireDmAllowed(tx, actor, other);
      } catch (error) {
        if (!(error instanceof ForbiddenError) || error.code !== "BLOCKED") throw error;
        const person = await tx.selectFrom("users").select("display_name").where("id", "=", other).executeTakeFirstOrThrow();
        throw new ForbiddenError(`You cannot start a group conversation with ${person.display_name}: one of you has blocked the other. Take them off the list.`, "BLOCKED");
      }
    }
    await tx.insertInto("channels").values({ id, kind: "group_dm", community_id: null, group_id: null, name: null, topic: null, created_by: actor.userId, created_at: now }).execute();
    await tx.insertInto("channel_members").values([actor.userId, ...others].map((user_id) => ({ channel_id: id, user_id, added_at: now }))).execute();
    for (const u of others) outbox.push(`user:${u}`, { type: "dm:created", channel_id: id });
  });
  return (await getDm(deps, actor, id))!;
}

async function participantsOf(db: Executor, channelIds: string[]): Promise<Map<string, UserBrief[]>> {
  const map = new Map<string, UserBrief[]>();
  if (!channelIds.length) return map;
  const rows = await db.selectFrom("channel_members as m").innerJoin("users as u", "u.id", "m.user_id").select(["m.channel_id", "u.id", "u.username", "u.display_name"]).where("m.channel_id", "in", channelIds).orderBy("u.display_name").execute();
  for (const r of rows) {
    const list = map.get(r.channel_id) ?? [];
    list.push({ id: r.id, username: r.username, displayName: r.display_name });
    map.set(r.channel_id, list);
  }
  return map;
}

/** A DM the actor takes part in, else undefined (callers turn that into 404). */
export async function getDm(deps: AppDeps, actor: ActorLike, channelId: string): Promise<DmView | undefined> {
  const db = dbOf(deps);
  if (!isUuid(channelId)) return undefined;
  const row = await db
    .selectFrom("channels as c")
    .innerJoin("channel_members as m", "m.channel_id", "c.id")
    .select(["c.id", "c.kind", "c.created_at"])
    .where("c.id", "=", channelId)
    .where("m.user_id", "=", actor.userId)
    .where("c.kind", "in", ["dm", "group_dm"])
    .executeTakeFirst();
  if (!row) return undefined;
  const participants = (await participantsOf(db, [row.id])).get(row.id) ?? [];
  return { channelId: row.id, kind: row.kind as DmView["kind"], participants, createdAt: row.created_at };
}

export async function listDms(deps: AppDeps, actor: ActorLike): Promise<DmView[]> {
  const db = dbOf(deps);
  const rows = await db
    .selectFrom("channels as c")
    .innerJoin("channel_members as m", "m.channel_id", "c.id")
    .select(["c.id", "c.kind", "c.created_at"])
    .where("m.user_id", "=", actor.userId)
    .where("c.kind", "in", ["dm", "group_dm"])
    .orderBy("c.created_at", "desc")
    .limit(500)
    .execute();
  const people = await participantsOf(db, rows.map((r) => r.id));
  return rows.map((r) => ({ channelId: r.id, kind: r.kind as DmView["kind"], participants: people.get(r.id) ?? [], createdAt: r.created_at }));
}

/** People the actor could start a DM with (community mates), for the "new message" picker. */
export async function listDmCandidates(deps: AppDeps, actor: ActorLike, query: string): Promise<UserBrief[]> {
  const db = dbOf(deps);
  const q = query.trim().toLowerCase().slice(0, 64);
  let sel = db
    .selectFrom("users as u")
    .select(["u.id", "u.username", "u.display_name"])
    .where("u.id", "!=", actor.userId)
    .where("u.suspended_at", "is", null)
    .where((eb) => eb.exists(eb.selectFrom("community_members as x").innerJoin("community_members as y", "y.community_id", "x.community_id").select("x.user_id").whereRef("y.user_id", "=", "u.id").where("x.user_id", "=", actor.userId)))
    .where(sql<boolean>`not exists (select 1 from user_blocks b where (b.blocker_id = ${actor.userId} and b.blocked_id = u.id) or (b.blocker_id = u.id and b.blocked_id = ${actor.userId}))`)
    .orderBy("u.display_name")
    .limit(20);
  if (q) sel = sel.where((eb) => eb.or([eb(eb.fn("lower", ["u.username"]), "like", `%${q.replace(/[%_\\]/g, "\\$&")}%`), eb(eb.fn("lower", ["u.display_name"]), "like", `%${q.replace(/[%_\\]/g, "\\$&")}%`)]));
  const rows = await sel.execute();
  return rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name }));
}

/** Blocking someone the actor cannot see is a 404 exactly like an unknown id (no enumeration). */
export async function blockUser(deps: AppDeps, actor: ActorLike, userId: string) {
  if (userId.toLowerCase() === actor.userId) throw new InvalidInputError("You cannot block yourself.", { user_id: "Pick someone else." });
  const target = await relationTo(dbOf(deps), actor, userId);
  if (!target || !isVisibleTo(target, actor)) throw new NotFoundError("No such user.");
  await mutate(deps, async (tx, outbox) => {
    await tx.insertInto("user_blocks").values({ blocker_id: actor.userId, blocked_id: target.id, created_at: nowOf(deps) }).onConflict((oc) => oc.doNothing()).execute();
    // Only the blocker's own sessions hear about it: the blocked user is not told.
    outbox.push(`user:${actor.userId}`, { type: "block:added", user_id: target.id });
  });
}

export async function unblockUser(deps: AppDeps, actor: ActorLike, userId: string) {
  await mutate(deps, async (tx, outbox) => {
    const removed = isUuid(userId) ? await tx.deleteFrom("user_blocks").where("blocker_id", "=", actor.userId).where("blocked_id", "=", userId).returning("blocked_id").executeTakeFirst() : undefined;
    if (!removed) throw new NotFoundError("You have not blocked that user.");
    outbox.push(`user:${actor.userId}`, { type: "block:removed", user_id: userId });
  });
}

export async function listBlocks(deps: AppDeps, actor: ActorLike) {
  const rows = await dbOf(deps)
    .selectFrom("user_blocks as b")
    .innerJoin("users as u", "u.id", "b.blocked_id")
    .select(["b.blocked_id", "u.username", "u.display_name", "b.created_at"])
    .where("b.blocker_id", "=", actor.userId)
    .orderBy("b.created_at", "desc")
    .execute();
  return rows.map((r) => ({ userId: r.blocked_id, username: r.username, displayName: r.display_name, createdAt: r.created_at }));
}

export type Profile = { id: string; username: string; displayName: string; pronouns: string | null; customStatus: string | null; bio: string | null };

/**
 * The profile card's data (status, pronouns, about me) of someone the actor knows: themself, or a
 * person they share a community or conversation with. Anyone else, an unknown or malformed id
 * alike, is 404: the card is no way to look strangers up.
 */
export async function getProfile(deps: AppDeps, actor: ActorLike, userId: string): Promise<Profile> {
  const db = dbOf(deps);
  if (userId.toLowerCase() !== actor.userId) {
    const relation = await relationTo(db, actor, userId);
    if (!relation || !acquainted(relation, actor)) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  }
  const row = await db.selectFrom("users").select(["id", "username", "display_name", "pronouns", "custom_status", "bio"]).where("id", "=", userId.toLowerCase()).executeTakeFirst();
  if (!row) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  return { id: row.id, username: row.username, displayName: row.display_name, pronouns: row.pronouns, customStatus: row.custom_status, bio: row.bio };
}

