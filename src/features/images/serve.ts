/**
 * GET /media/{id}/{sha256}.webp — a stored public image, to a signed-in user who may see it:
 *   avatar                   its owner, and people who share a community or a DM with them
 *   community icon, banner   the community's members (and anyone signed in while it is discoverable)
 *   custom emoji             the community's members
 * Everyone else, a wrong hash and an unknown id alike: 404 IMAGE_NOT_FOUND.
 * The bytes are always the server's own re-encoding (WebP), served as image/webp with nosniff, a
 * CSP that allows nothing, and a year of private, immutable caching (the hash is in the URL).
 */
import type { AppDeps } from "../../deps.ts";
import { NotFoundError } from "../../errors.ts";
import { parseBlobId } from "../../blobs/index.ts";
import type { Executor } from "../../db/tx.ts";
import { dbOf } from "../communities/index.ts";
import { shareCommunityOrDm } from "../dms/index.ts";
import { isUuid, type ActorRef } from "../permissions/index.ts";
import { findImage, type ImageRow } from "./store.ts";

export const imageNotFound = () => new NotFoundError("No such image.", "IMAGE_NOT_FOUND");

export async function isCommunityMember(db: Executor, userId: string, communityId: string): Promise<boolean> {
  const row = await db.selectFrom("community_members").select("user_id").where("community_id", "=", communityId).where("user_id", "=", userId).executeTakeFirst();
  return row !== undefined;
}

async function maySee(db: Executor, actor: ActorRef, image: ImageRow): Promise<boolean> {
  if (image.user_id) return image.user_id === actor.userId || actor.isOwner || (await shareCommunityOrDm(db, actor.userId, image.user_id));
  if (!image.community_id) return false;
  if (actor.isOwner || (await isCommunityMember(db, actor.userId, image.community_id))) return true;
  if (image.kind === "icon" || image.kind === "banner") {
    const c = await db.selectFrom("communities").select("discoverable").where("id", "=", image.community_id).executeTakeFirst();
    return c?.discoverable === true;
  }
  return false;
}

export async function serveImage(deps: AppDeps, actor: ActorRef, id: string, file: string): Promise<Response> {
  const db = dbOf(deps);
  const m = /^([0-9a-f]{64})\.webp$/.exec(file);
  if (!m || !isUuid(id)) throw imageNotFound();
  const image = await findImage(db, id.toLowerCase());
  if (!image || image.sha256 !== m[1] || !(await maySee(db, actor, image))) throw imageNotFound();
  let body: ReadableStream<Uint8Array>;
  try {
    body = await deps.blobs!.readBlob(parseBlobId(image.blob_id));
  } catch {
    throw imageNotFound();
  }
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": image.content_type,
      "content-length": String(image.size),
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      "content-disposition": "inline",
      "cache-control": "private, max-age=31536000, immutable",
      "cross-origin-resource-policy": "same-origin",
    },
  });
}
