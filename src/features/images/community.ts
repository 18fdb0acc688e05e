/**
 * Community faces (issue 17 §3): icon (square, ≤ 512 px), banner (≤ 1920 × 640), and the welcome
 * message shown to new members. Changing them needs `edit_community` (the permission that guards
 * the name and description); members hear `community:updated` live. The description is edited
 * through PATCH /api/communities/{id} as before.
 */
import type { AppDeps } from "../../deps.ts";
import { insertCommunityAudit, mutate, nowOf, dbOf, optionalText, type ActorLike } from "../communities/index.ts";
import { accessCommunity, requireCan } from "../permissions/index.ts";
import type { Crop } from "./codec.ts";
import { deleteBlobs, deleteImageRows, encodeAndWrite, imageUrl, insertImage, withWrittenImage } from "./store.ts";

export type CommunityFaceKind = "icon" | "banner";
const COLUMN = { icon: "icon_image_id", banner: "banner_image_id" } as const;

export type CommunityFaces = { id: string; description: string | null; welcome_message: string | null; icon_url: string | null; banner_url: string | null };

export async function getCommunityFaces(deps: AppDeps, actor: ActorLike, communityId: string): Promise<CommunityFaces> {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  const row = await db
    .selectFrom("communities as c")
    .leftJoin("images as ic", "ic.id", "c.icon_image_id")
    .leftJoin("images as bn", "bn.id", "c.banner_image_id")
    .select(["c.id", "c.description", "c.welcome_message", "ic.id as icon_id", "ic.sha256 as icon_sha", "bn.id as banner_id", "bn.sha256 as banner_sha"])
    .where("c.id", "=", access.community.id)
    .executeTakeFirstOrThrow();
  return {
    id: row.id,
    description: row.description,
    welcome_message: row.welcome_message,
    icon_url: row.icon_id && row.icon_sha ? imageUrl({ id: row.icon_id, sha256: row.icon_sha }) : null,
    banner_url: row.banner_id && row.banner_sha ? imageUrl({ id: row.banner_id, sha256: row.banner_sha }) : null,
  };
}

/** PUT /api/communities/{id}/icon|banner. The permission is checked before the image is decoded. */
export async function setCommunityImage(deps: AppDeps, actor: ActorLike, communityId: string, kind: CommunityFaceKind, bytes: Uint8Array, crop?: Crop): Promise<{ url: string }> {
  const access = await accessCommunity(dbOf(deps), actor, communityId, nowOf(deps));
  requireCan(access, "edit_community");
  const written = await encodeAndWrite(deps, bytes, kind, crop);
  const { url, oldBlobs } = await withWrittenImage(deps, written, () =>
    mutate(deps, async (tx, outbox) => {
      const now = nowOf(deps);
      const again = await accessCommunity(tx, actor, communityId, now);
      requireCan(again, "edit_community");
      const id = again.community.id;
      const row = await tx.selectFrom("communities").select(["icon_image_id", "banner_image_id"]).where("id", "=", id).forUpdate().executeTakeFirstOrThrow();
      const image = await insertImage(tx, written, { kind, communityId: id, now });
      await tx.updateTable("communities").set({ [COLUMN[kind]]: image.id }).where("id", "=", id).execute();
      const oldBlobs = await deleteImageRows(tx, [row[COLUMN[kind]]]);
      await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_updated", metadata: { fields: [kind] }, at: now });
      outbox.push(`community:${id}`, { type: "community:updated", community_id: id });
      return { url: imageUrl(image)!, oldBlobs };
    }),
  );
  await deleteBlobs(deps, oldBlobs);
  return { url };
}

export async function removeCommunityImage(deps: AppDeps, actor: ActorLike, communityId: string, kind: CommunityFaceKind): Promise<void> {
  const oldBlobs = await mutate(deps, async (tx, outbox) => {
    const now = nowOf(deps);
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "edit_community");
    const id = access.community.id;
    const row = await tx.selectFrom("communities").select(["icon_image_id", "banner_image_id"]).where("id", "=", id).forUpdate().executeTakeFirstOrThrow();
    const current = row[COLUMN[kind]];
    if (!current) return [];
    await tx.updateTable("communities").set({ [COLUMN[kind]]: null }).where("id", "=", id).execute();
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_updated", metadata: { fields: [kind] }, at: now });
    outbox.push(`community:${id}`, { type: "community:updated", community_id: id });
    return deleteImageRows(tx, [current]);
  });
  await deleteBlobs(deps, oldBlobs);
}

export const MAX_WELCOME_MESSAGE = 2000;

/** PUT /api/communities/{id}/welcome: plain text shown to members who join (null or "" clears it). */
export async function setWelcomeMessage(deps: AppDeps, actor: ActorLike, communityId: string, text: string | null): Promise<{ welcome_message: string | null }> {
  const value = optionalText("welcome_message", "Welcome message", text === null ? null : text.replace(/\r\n/g, "\n"), MAX_WELCOME_MESSAGE);
  return mutate(deps, async (tx, outbox) => {
    const now = nowOf(deps);
    const access = await accessCommunity(tx, actor, communityId, now);
    requireCan(access, "edit_community");
    const id = access.community.id;
    await tx.updateTable("communities").set({ welcome_message: value }).where("id", "=", id).execute();
    await insertCommunityAudit(tx, { communityId: id, actorId: actor.userId, action: "community_updated", metadata: { fields: ["welcome_message"] }, at: now });
    outbox.push(`community:${id}`, { type: "community:updated", community_id: id });
    return { welcome_message: value };
  });
}
