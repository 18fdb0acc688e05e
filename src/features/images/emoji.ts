/**
 * Custom emoji per community (issue 17 §4). Shortcode 2–32 of [A-Za-z0-9_], unique per community
 * ignoring case (EMOJI_EXISTS), at most MAX_EMOJI_PER_COMMUNITY (seeds/000: 50; the 51st is
 * EMOJI_LIMIT). Adding and deleting needs `manage_emoji`; members list them and see the images.
 * Messages carry `:shortcode:` inside their encrypted text; the client renders it from the set.
 * A reaction `:shortcode:` in a community channel must name one of the community's emoji
 * (EMOJI_NOT_FOUND otherwise). Deleting an emoji removes its image; old messages and reactions
 * keep `:shortcode:` and show it as text.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor } from "../../db/tx.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { dbOf, insertCommunityAudit, mutate, nowOf, type ActorLike } from "../communities/index.ts";
import { accessCommunity, requireCan } from "../permissions/index.ts";
import { deleteBlobs, deleteImageRows, encodeAndWrite, imageUrl, insertImage, withWrittenImage } from "./store.ts";

import { MAX_EMOJI_PER_COMMUNITY } from "../../shared/image-limits.ts";
export { MAX_EMOJI_PER_COMMUNITY };
export const SHORTCODE_PATTERN = /^[A-Za-z0-9_]{2,32}$/;
/** A reaction naming a custom emoji: `:shortcode:`. */
export const CUSTOM_REACTION_PATTERN = /^:([A-Za-z0-9_]{2,32}):$/;

export type CustomEmoji = { id: string; shortcode: string; url: string; animated: boolean; created_at: string };

export function requireShortcode(value: string): string {
  if (!SHORTCODE_PATTERN.test(value)) {
    const message = "A shortcode is 2–32 letters, digits or underscores.";
    throw new InvalidInputError(message, { shortcode: message }, "INVALID_SHORTCODE");
  }
  return value;
}

const emojiNotFound = () => new NotFoundError("No such emoji.", "EMOJI_NOT_FOUND");

async function listRows(db: Executor, communityId: string): Promise<CustomEmoji[]> {
  const rows = await db
    .selectFrom("community_emoji as e")
    .innerJoin("images as i", "i.id", "e.image_id")
    .select(["e.id", "e.shortcode", "e.created_at", "i.id as image_id", "i.sha256", "i.animated"])
    .where("e.community_id", "=", communityId)
    .orderBy("e.shortcode")
    .execute();
  return rows.map((r) => ({ id: r.id, shortcode: r.shortcode, url: imageUrl({ id: r.image_id, sha256: r.sha256 })!, animated: r.animated, created_at: r.created_at.toISOString() }));
}

/** GET /api/communities/{id}/emoji: members only (404 otherwise). */
export async function listEmoji(deps: AppDeps, actor: ActorLike, communityId: string): Promise<CustomEmoji[]> {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  return listRows(db, access.community.id);
}

/** GET /api/emoji: every community set the actor is a member of (the picker's tabs). */
export async function listMyEmoji(deps: AppDeps, actor: ActorLike): Promise<{ community_id: string; name: string; emoji: CustomEmoji[] }[]> {
  const db = dbOf(deps);
  const communities = await db
    .selectFrom("community_members as m")
    .innerJoin("communities as c", "c.id", "m.community_id")
    .select(["c.id", "c.name"])
    .where("m.user_id", "=", actor.userId)
    .where((eb) => eb.exists(eb.selectFrom("community_emoji as e").select("e.id").whereRef("e.community_id", "=", "c.id")))
    .orderBy("c.name")
    .execute();
  const out = [];
  for (const c of communities) out.push({ community_id: c.id, name: c.name, emoji: await listRows(db, c.id) });
  return out;
}

/** POST /api/communities/{id}/emoji?shortcode=: the body is the image. */
export async function addEmoji(deps: AppDeps, actor: ActorLike, communityId: string, rawShortcode: string, bytes: Uint8Array): Promise<CustomEmoji> {
  const shortcode = requireShortcode(rawShortcode);
  const check = async (db: Executor, lock: boolean) => {
    const access = await accessCommunity(db, actor, communityId, nowOf(deps));
    requireCan(access, "manage_emoji");
    const id = access.community.id;
    // Locking the community row serialises concurrent adds: the count and the name stay true.
    if (lock) await db.selectFrom("communities").select("id").where("id", "=", id).forUpdate().execute();
    const rows = await db.selectFrom("community_emoji").select("shortcode").where("community_id", "=", id).execute();
    if (rows.some((r) => r.shortcode.toLowerCase() === shortcode.toLowerCase())) throw new ConflictError(`This community already has :${shortcode}:.`, "EMOJI_EXISTS");
    if (rows.length >= MAX_EMOJI_PER_COMMUNITY) throw new ConflictError(`A community can have at most ${MAX_EMOJI_PER_COMMUNITY} custom emoji.`, "EMOJI_LIMIT");
    return id;
  };
  // Checked before the image is decoded (no work for a refused request), and again under the lock.
  await check(dbOf(deps), false);
  const written = await encodeAndWrite(deps, bytes, "emoji");
  return withWrittenImage(deps, written, () =>
    mutate(deps, async (tx, outbox) => {
      const id = await check(tx, true);
      const now = nowOf(deps);
      const image = await insertImage(tx, written, { kind: "emoji", communityId: id, now });
      const emojiId = Bun.randomUUIDv7();
      await tx.insertInto("community_emoji").values({ id: emojiId, community_id: id, shortcode, image_id: image.id, created_by: actor.userId, created_at: now }).execute();
      await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_updated", metadata: { emoji_added: shortcode }, at: now });
      const emoji = { id: emojiId, shortcode, url: imageUrl(image)!, animated: image.animated, created_at: now.toISOString() };
      outbox.push(`community:${id}`, { type: "emoji:changed", community_id: id });
      return emoji;
    }),
  );
}

/** DELETE /api/communities/{id}/emoji/{shortcode}. */
export async function deleteEmoji(deps: AppDeps, actor: ActorLike, communityId: string, shortcode: string): Promise<void> {
  if (!SHORTCODE_PATTERN.test(shortcode)) throw emojiNotFound();
  const blobs = await mutate(deps, async (tx, outbox) => {
    const now = nowOf(deps);
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "manage_emoji");
    const id = access.community.id;
    const row = await tx.deleteFrom("community_emoji").where("community_id", "=", id).where("shortcode", "=", shortcode).returning("image_id").executeTakeFirst();
    if (!row) throw emojiNotFound();
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_updated", metadata: { emoji_deleted: shortcode }, at: now });
    outbox.push(`community:${id}`, { type: "emoji:changed", community_id: id });
    return deleteImageRows(tx, [row.image_id]);
  });
  await deleteBlobs(deps, blobs);
}

/**
 * For reactions (messages feature): `:shortcode:` must be one of the channel's community's emoji;
 * outside a community (DMs) custom emoji reactions are refused. Other reactions pass untouched.
 */
export async function requireKnownCustomReaction(db: Executor, communityId: string | null, emoji: string): Promise<void> {
  const m = CUSTOM_REACTION_PATTERN.exec(emoji);
  if (!m) return;
  const unknown = () => new InvalidInputError(`:${m[1]}: is not a custom emoji of this community.`, { emoji: "Unknown custom emoji." }, "EMOJI_NOT_FOUND");
  if (!communityId) throw unknown();
  const row = await db.selectFrom("community_emoji").select("id").where("community_id", "=", communityId).where("shortcode", "=", m[1]!).executeTakeFirst();
  if (!row) throw unknown();
}
