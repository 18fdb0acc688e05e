/** JSON API of DMs, group DMs and user blocks. */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { NotFoundError } from "../../errors.ts";
import { json } from "../../http/render.ts";
import { authGuard } from "../auth/index.ts";
import { Uuid } from "../../http/input-schemas.ts";
import { blockUser, getDm, getProfile, listBlocks, listDms, openDm, openGroupDm, unblockUser, type DmView } from "./service.ts";

export function dmJson(d: DmView) {
  return { channel_id: d.channelId, kind: d.kind, participants: d.participants.map((p) => ({ id: p.id, username: p.username, display_name: p.displayName })), created_at: d.createdAt.toISOString() };
}

export function dmApiRoutes(deps: AppDeps) {
  return new Elysia({ name: "dms-api" })
    .use(authGuard(deps))
    .get("/api/dms", async ({ actor }) => ({ dms: (await listDms(deps, actor)).map(dmJson) }), { auth: true })
    .post("/api/dms", async ({ actor, body }) => {
      const dm = body.user_ids ? await openGroupDm(deps, actor, body.user_ids) : await openDm(deps, actor, body.user_id ?? "");
      return json(dmJson(dm), { status: 200 });
    }, { auth: true, body: t.Object({ user_id: t.Optional(t.String({ maxLength: 64 })), user_ids: t.Optional(t.Array(t.String({ maxLength: 64 }), { maxItems: 50 })) }) })
    .get("/api/dms/:id", async ({ actor, params }) => {
      const dm = await getDm(deps, actor, params.id);
      if (!dm) throw new NotFoundError("No such conversation.");
      return dmJson(dm);
    }, { auth: true })
    // The profile card (src/client/chat/profile-card.ts): 404 unless self or an acquaintance.
    .get("/api/users/:id/profile", async ({ actor, params }) => {
      const p = await getProfile(deps, actor, params.id);
      return { id: p.id, username: p.username, display_name: p.displayName, pronouns: p.pronouns, custom_status: p.customStatus, bio: p.bio };
    }, { auth: true, params: t.Object({ id: Uuid }) })
    .get("/api/users/blocks", async ({ actor }) => ({ blocks: (await listBlocks(deps, actor)).map((b) => ({ user_id: b.userId, username: b.username, display_name: b.displayName, created_at: b.createdAt.toISOString() })) }), { auth: true })
    .post("/api/users/blocks", async ({ actor, body }) => {
      await blockUser(deps, actor, body.user_id);
      return new Response(null, { status: 204 });
    }, { auth: true, body: t.Object({ user_id: t.String({ maxLength: 64 }) }) })
    .delete("/api/users/blocks/:userId", async ({ actor, params }) => {
      await unblockUser(deps, actor, params.userId);
      return new Response(null, { status: 204 });
    }, { auth: true });
}
