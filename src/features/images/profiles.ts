/**
 * Profiles (issue 17 §2): avatar upload/removal, a person's public profile, user search, the
 * nickname per community, and the live `user:profile` event.
 *
 * Who sees a profile: the person themself, the instance owner, and people who share a community
 * or a DM with them. Anyone else — and an unknown or malformed id — gets the same 404
 * USER_NOT_FOUND. Search only ever returns such acquaintances.
 *
 * `user:profile {user_id}` is published, after COMMIT, to the person's own sessions, to the topic
 * of each community they are in, and to the user topic of each DM partner: nobody else's socket
 * hears of the change. Clients then re-fetch GET /api/users/{id}.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor, Outbox } from "../../db/tx.ts";
import { NotFoundError } from "../../errors.ts";
import { dbOf, mutate, nowOf, optionalText, type ActorLike } from "../communities/index.ts";
import { shareCommunityOrDm } from "../dms/index.ts";
import { accessCommunity, isUuid } from "../permissions/index.ts";
import type { Crop } from "./codec.ts";
import { deleteBlobs, deleteImageRows, encodeAndWrite, imageUrl, insertImage, withWrittenImage } from "./store.ts";

export const userNotFound = () => new NotFoundError("No such user.", "USER_NOT_FOUND");

/** In the transaction of a change: the event to everyone who can see this person's profile. */
export async function queueProfileEvent(db: Executor, outbox: Outbox, userId: string): Promise<void> {
  const frame = { type: "user:profile", user_id: userId };
  outbox.push(`user:${userId}`, frame);
  const communities = await db.selectFrom("community_members").select("community_id").where("user_id", "=", userId).execute();
  for (const c of communities) outbox.push(`community:${c.community_id}`, frame);
  const partners = await db
    .selectFrom("channel_members as x")
    .innerJoin("channel_members as y", "y.channel_id", "x.channel_id")
    .innerJoin("channels as c", "c.id", "x.channel_id")
    .select("y.user_id")
    .distinct()
    .where("x.user_id", "=", userId)
    .where("y.user_id", "<>", userId)
    .where("c.kind", "in", ["dm", "group_dm"])
    .execute();
  for (const p of partners) outbox.push(`user:${p.user_id}`, frame);
}

export type PublicProfile = {
  id: string;
  username: string;
  display_name: string;
  pronouns: string | null;
  custom_status: string | null;
  bio: string | null;
  avatar_url: string | null;
};

const PROFILE_COLUMNS = ["u.id", "u.username", "u.display_name", "u.pronouns", "u.custom_status", "u.bio", "i.id as image_id", "i.sha256"] as const;

function profileOf(r: { id: string; username: string; display_name: string; pronouns: string | null; custom_status: string | null; bio: string | null; image_id: string | null; sha256: string | null }): PublicProfile {
  return {
    id: r.id,
    username: r.username,
    display_name: r.display_name,
    pronouns: r.pronouns,
    custom_status: r.custom_status,
    bio: r.bio,
    avatar_url: r.image_id && r.sha256 ? imageUrl({ id: r.image_id, sha256: r.sha256 }) : null,
  };
}

/** GET /api/users/{id}: 404 USER_NOT_FOUND unless self, instance owner or an acquaintance. */
export async function getUserProfile(deps: AppDeps, actor: ActorLike, userId: string): Promise<PublicProfile> {
  const db = dbOf(deps);
  if (!isUuid(userId)) throw userNotFound();
  const id = userId.toLowerCase();
  if (id !== actor.userId && !actor.isOwner && !(await shareCommunityOrDm(db, actor.userId, id))) throw userNotFound();
  const row = await db.selectFrom("users as u").leftJoin("images as i", "i.id", "u.avatar_image_id").select(PROFILE_COLUMNS).where("u.id", "=", id).executeTakeFirst();
  if (!row) throw userNotFound();
  return profileOf(row);
}

export const USER_SEARCH_LIMIT = 20;

/** GET /api/users/search?q=: username or display name prefix, among acquaintances only. */
export async function searchUsers(deps: AppDeps, actor: ActorLike, query: string): Promise<PublicProfile[]> {
  const q = query.trim().toLowerCase();
  if (q.length === 0) return [];
  const pattern = q.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
  const db = dbOf(deps);
  const rows = await db
    .selectFrom("users as u")
    .leftJoin("images as i", "i.id", "u.avatar_image_id")
    .select(PROFILE_COLUMNS)
    .where((eb) => eb.or([eb(eb.fn("lower", ["u.username"]), "like", pattern), eb(eb.fn("lower", ["u.display_name"]), "like", pattern)]))
    .where((eb) =>
      eb.or([
        eb("u.id", "=", actor.userId),
        eb.exists(
          eb.selectFrom("community_members as x").innerJoin("community_members as y", "y.community_id", "x.community_id").select("x.user_id").whereRef("x.user_id", "=", "u.id").where("y.user_id", "=", actor.userId),
        ),
        eb.exists(
          eb
            .selectFrom("channel_members as x")
            .innerJoin("channel_members as y", "y.channel_id", "x.channel_id")
            .innerJoin("channels as c", "c.id", "x.channel_id")
            .select("x.user_id")
            .whereRef("x.user_id", "=", "u.id")
            .where("y.user_id", "=", actor.userId)
            .where("c.kind", "in", ["dm", "group_dm"]),
        ),
      ]),
    )
    .where("u.suspended_at", "is", null)
    .orderBy("u.username")
    .limit(USER_SEARCH_LIMIT)
    .execute();
  return rows.map(profileOf);
}

/** PUT /api/account/avatar: re-encodes (square crop, ≤ 512 px), replaces the old one, tells the audience. */
export async function setAvatar(deps: AppDeps, actor: ActorLike, bytes: Uint8Array, crop?: Crop): Promise<{ avatar_url: string }> {
  const written = await encodeAndWrite(deps, bytes, "avatar", crop);
  const { url, oldBlobs } = await withWrittenImage(deps, written, () =>
    mutate(deps, async (tx, outbox) => {
      const user = await tx.selectFrom("users").select("avatar_image_id").where("id", "=", actor.userId).forUpdate().executeTakeFirst();
      if (!user) throw userNotFound();
      const image = await insertImage(tx, written, { kind: "avatar", userId: actor.userId, now: nowOf(deps) });
      await tx.updateTable("users").set({ avatar_image_id: image.id }).where("id", "=", actor.userId).execute();
      const oldBlobs = await deleteImageRows(tx, [user.avatar_image_id]);
      await queueProfileEvent(tx, outbox, actor.userId);
      return { url: imageUrl(image)!, oldBlobs };
    }),
  );
  await deleteBlobs(deps, oldBlobs);
  return { avatar_url: url };
}

/** DELETE /api/account/avatar. Removing none is not an error. */
export async function removeAvatar(deps: AppDeps, actor: ActorLike): Promise<void> {
  const oldBlobs = await mutate(deps, async (tx, outbox) => {
    const user = await tx.selectFrom("users").select("avatar_image_id").where("id", "=", actor.userId).forUpdate().executeTakeFirst();
    if (!user?.avatar_image_id) return [];
    await tx.updateTable("users").set({ avatar_image_id: null }).where("id", "=", actor.userId).execute();
    const blobs = await deleteImageRows(tx, [user.avatar_image_id]);
    await queueProfileEvent(tx, outbox, actor.userId);
    return blobs;
  });
  await deleteBlobs(deps, oldBlobs);
}

/** PUT /api/communities/{id}/nickname: the actor's own nickname there (null/empty clears it). */
export async function setNickname(deps: AppDeps, actor: ActorLike, communityId: string, nickname: string | null): Promise<{ nickname: string | null }> {
  const value = optionalText("nickname", "Nickname", nickname, 64);
  return mutate(deps, async (tx, outbox) => {
    const access = await accessCommunity(tx, actor, communityId, nowOf(deps));
    if (!access.subject.member) throw new NotFoundError("No such community.", "COMMUNITY_NOT_FOUND");
    await tx.updateTable("community_members").set({ nickname: value }).where("community_id", "=", access.community.id).where("user_id", "=", actor.userId).execute();
    outbox.push(`community:${access.community.id}`, { type: "member:nickname", community_id: access.community.id, user_id: actor.userId, nickname: value });
    return { nickname: value };
  });
}
