/**
 * Unread counts and "mark all read" (docs/messages.md "Unread and mentions"), both faces: the
 * JSON API and plain POST forms (the home hub's and the community menu's buttons, which work
 * without the client bundle: post/redirect/get back to where the user was).
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { RateLimitedError } from "../../errors.ts";
import { redirect } from "../../http/render.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { MemoryRateLimitStore, type Limit } from "../../http/rate-limit.ts";
import { MAX_REDIRECT_PATH } from "../../http/redirect-target.ts";
import { Uuid } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { getUnread, listUnread, markAllRead } from "./read-state.ts";

/** Per user: a burst of 10, then one every 2 s (each call runs the unread listing). */
export const MARK_ALL_READ_RATE: Limit = { ratePerSec: 0.5, burst: 10 };

const ReadAllForm = t.Object({ next: t.Optional(t.String({ maxLength: MAX_REDIRECT_PATH, description: "Where to go back to (same-origin path)." })) });
const IdParams = t.Object({ id: Uuid });

export function readStateRoutes(deps: AppDeps) {
  const store = deps.rateLimitStore ?? new MemoryRateLimitStore();
  const markAll = async (userId: string, isOwner: boolean, communityId: string | null) => {
    const taken = await store.take(`mark-all-read:${userId}`, MARK_ALL_READ_RATE, (deps.now ?? Date.now)());
    if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "You marked everything read a moment ago. Try again shortly.");
    return markAllRead(deps, { userId, isOwner }, communityId);
  };
  return new Elysia({ name: "read-state" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .get("/api/channels/unread", async ({ actor }) => ({ channels: await listUnread(deps, actor) }), { auth: true })
    .get("/api/channels/:id/unread", async ({ actor, params }) => ({ channel: await getUnread(deps, actor, params.id) }), { auth: true, params: IdParams })
    .post("/api/channels/read-all", async ({ actor }) => markAll(actor.userId, actor.isOwner, null), { auth: true })
    .post("/api/communities/:id/read-all", async ({ actor, params }) => markAll(actor.userId, actor.isOwner, params.id), { auth: true, params: IdParams })
    .post("/read-all", async ({ actor, body, request }) => {
      await markAll(actor.userId, actor.isOwner, null);
      return redirect(request, body.next || "/");
    }, { auth: true, body: ReadAllForm })
    .post("/c/:id/read-all", async ({ actor, params, body, request }) => {
      await markAll(actor.userId, actor.isOwner, params.id);
      return redirect(request, body.next || `/c/${params.id}`);
    }, { auth: true, params: IdParams, body: ReadAllForm });
}
