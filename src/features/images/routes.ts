/**
 * Public images, profiles and custom emoji (docs/profiles.md). Image bodies are the raw file
 * (any Content-Type: the server sniffs the bytes), at most MAX_IMAGE_UPLOAD_BYTES (10 MB).
 *   GET    /media/{id}/{sha256}.webp               a stored image (404 unless the viewer may see it)
 *   PUT    /api/account/avatar                     set the avatar (query: crop_x, crop_y, crop_size)
 *   DELETE /api/account/avatar                     remove it
 *   GET    /api/users/search?q=                    people the caller shares a community or DM with
 *   GET    /api/users/{id}                         a profile (404 for strangers, like an unknown id)
 *   PUT    /api/communities/{id}/nickname          the caller's nickname in a community
 *   GET    /api/communities/{id}/appearance        icon, banner, description, welcome message
 *   PUT    /api/communities/{id}/icon|banner       set (edit_community); DELETE removes
 *   PUT    /api/communities/{id}/welcome           the welcome message (edit_community)
 *   GET    /api/communities/{id}/emoji             its custom emoji (members)
 *   POST   /api/communities/{id}/emoji?shortcode=  add one (manage_emoji)
 *   DELETE /api/communities/{id}/emoji/{shortcode} delete one (manage_emoji)
 *   GET    /api/emoji                              the sets of every community the caller is in
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { RateLimitedError } from "../../errors.ts";
import { json } from "../../http/render.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { int, queryOf } from "../../http/input-schemas.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { authGuard } from "../auth/index.ts";
import { nowOf } from "../communities/index.ts";
import { MAX_IMAGE_UPLOAD_BYTES, ImageTooLargeError, type Crop } from "./codec.ts";
import { serveImage } from "./serve.ts";
import { getUserProfile, removeAvatar, searchUsers, setAvatar, setNickname } from "./profiles.ts";
import { getCommunityFaces, MAX_WELCOME_MESSAGE, type CommunityFaceKind, removeCommunityImage, setCommunityImage, setWelcomeMessage } from "./community.ts";
import { addEmoji, deleteEmoji, listEmoji, listMyEmoji } from "./emoji.ts";

/** Re-encoding costs CPU: per user, one image a second with a burst of 10. */
export const IMAGE_UPLOAD_RATE: Limit = { ratePerSec: 1, burst: 10 };
const stores = new WeakMap<AppDeps, RateLimitStore>();
async function takeImageToken(deps: AppDeps, userId: string): Promise<void> {
  let store = deps.rateLimitStore ?? stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  const taken = await store.take(`images:${userId}`, IMAGE_UPLOAD_RATE, nowOf(deps).getTime());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "Too many image uploads. Try again shortly.", "IMAGE_RATE_LIMITED");
}

/** The body, whole (the body guard has already cut it at the declared budget). */
async function imageBytes(request: Request): Promise<Uint8Array> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > MAX_IMAGE_UPLOAD_BYTES) throw new ImageTooLargeError("Images are limited to 10 MB.");
  return bytes;
}

const CropQuery = queryOf({ crop_x: int(0, 100_000), crop_y: int(0, 100_000), crop_size: int(1, 100_000) });
function cropOf(q: { crop_x?: number; crop_y?: number; crop_size?: number }): Crop | undefined {
  return q.crop_size === undefined ? undefined : { x: q.crop_x ?? 0, y: q.crop_y ?? 0, size: q.crop_size };
}
const IMAGE_BODY = { bytes: MAX_IMAGE_UPLOAD_BYTES, streamed: false } as const;

async function putFace(deps: AppDeps, actor: { userId: string; isOwner: boolean; isAdmin: boolean }, id: string, kind: CommunityFaceKind, request: Request, query: { crop_x?: number; crop_y?: number; crop_size?: number }) {
  await takeImageToken(deps, actor.userId);
  return setCommunityImage(deps, actor, id, kind, await imageBytes(request), cropOf(query));
}

/**
 * Typed as a plain Elysia plugin: nothing reads this plugin's route types, and adding them to the
 * app's chain made its type instantiation too deep for tsc (TS2589).
 */
export function imageRoutes(deps: AppDeps): Elysia {
  return imageRoutesTyped(deps) as unknown as Elysia;
}

function imageRoutesTyped(deps: AppDeps) {
  return new Elysia({ name: "images-api" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .get("/media/:id/:file", ({ actor, params }) => serveImage(deps, actor, params.id, params.file), { auth: true })
    .put(
      "/api/account/avatar",
      async ({ actor, request, query }) => {
        await takeImageToken(deps, actor.userId);
        return json(await setAvatar(deps, actor, await imageBytes(request), cropOf(query)));
      },
      { auth: true, parse: "none", query: CropQuery, bodyLimit: IMAGE_BODY },
    )
    .delete("/api/account/avatar", async ({ actor }) => {
      await removeAvatar(deps, actor);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/users/search", async ({ actor, query }) => ({ users: await searchUsers(deps, actor, query.q ?? "") }), { auth: true, query: queryOf({ q: t.String({ maxLength: 64 }) }) })
    .get("/api/users/:id", async ({ actor, params }) => getUserProfile(deps, actor, params.id), { auth: true })
    .put("/api/communities/:id/nickname", async ({ actor, params, body }) => json(await setNickname(deps, actor, params.id, body.nickname)), {
      auth: true,
      body: t.Object({ nickname: t.Union([t.String({ maxLength: 256 }), t.Null()]) }),
    })
    .get("/api/communities/:id/appearance", async ({ actor, params }) => getCommunityFaces(deps, actor, params.id), { auth: true })
    .put("/api/communities/:id/icon", async ({ actor, params, request, query }) => json(await putFace(deps, actor, params.id, "icon", request, query)), { auth: true, parse: "none", query: CropQuery, bodyLimit: IMAGE_BODY })
    .delete("/api/communities/:id/icon", async ({ actor, params }) => {
      await removeCommunityImage(deps, actor, params.id, "icon");
      return new Response(null, { status: 204 });
    }, { auth: true })
    .put("/api/communities/:id/banner", async ({ actor, params, request, query }) => json(await putFace(deps, actor, params.id, "banner", request, query)), { auth: true, parse: "none", query: CropQuery, bodyLimit: IMAGE_BODY })
    .delete("/api/communities/:id/banner", async ({ actor, params }) => {
      await removeCommunityImage(deps, actor, params.id, "banner");
      return new Response(null, { status: 204 });
    }, { auth: true })
    .put("/api/communities/:id/welcome", async ({ actor, params, body }) => json(await setWelcomeMessage(deps, actor, params.id, body.welcome_message)), {
      auth: true,
      body: t.Object({ welcome_message: t.Union([t.String({ maxLength: MAX_WELCOME_MESSAGE * 2 }), t.Null()]) }),
    })
    .get("/api/communities/:id/emoji", async ({ actor, params }) => ({ emoji: await listEmoji(deps, actor, params.id) }), { auth: true })
    .post(
      "/api/communities/:id/emoji",
      async ({ actor, params, request, query }) => {
        await takeImageToken(deps, actor.userId);
        return json({ emoji: await addEmoji(deps, actor, params.id, query.shortcode, await imageBytes(request)) }, { status: 201 });
      },
      { auth: true, parse: "none", query: t.Object({ shortcode: t.String({ maxLength: 64 }) }), bodyLimit: IMAGE_BODY },
    )
    .delete("/api/communities/:id/emoji/:shortcode", async ({ actor, params }) => {
      await deleteEmoji(deps, actor, params.id, params.shortcode);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/emoji", async ({ actor }) => ({ communities: await listMyEmoji(deps, actor) }), { auth: true });
}
