/** HTTP API of bookmarks, polls and scheduled messages (docs/messages.md, "Extras"). */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { addBookmark, deleteBookmark, listBookmarks, updateBookmarkNote } from "./bookmarks.ts";
import { closePoll, createPoll, getPoll, listPolls, retractVote, vote } from "./polls.ts";
import { deleteScheduled, listScheduled, scheduleMessage } from "./scheduled.ts";
import { MAX_MESSAGE_REQUEST_BYTES } from "./schemas.ts";
import { BookmarkBody, BookmarkNoteBody, PollBody, ScheduleBody, VoteBody } from "./body-schemas.ts";

const noContent = () => new Response(null, { status: 204 });
// Pages of bookmarks and polls: the services check both (INVALID_BEFORE, INVALID_LIMIT).
const PageQuery = queryOf({ before: text(64), limit: text(16) });

export function messageExtrasRoutes(deps: AppDeps) {
  return new Elysia({ name: "messages-extras-api" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .post("/api/bookmarks", async ({ actor, body }) => json({ bookmark: await addBookmark(deps, actor, body) }, { status: 201 }), { auth: true, body: BookmarkBody })
    .get("/api/bookmarks", async ({ actor, query }) => listBookmarks(deps, actor, query), { auth: true, query: PageQuery })
    .patch("/api/bookmarks/:id", async ({ actor, params, body }) => ({ bookmark: await updateBookmarkNote(deps, actor, params.id, body) }), { auth: true, body: BookmarkNoteBody })
    .delete("/api/bookmarks/:id", async ({ actor, params }) => {
      await deleteBookmark(deps, actor, params.id);
      return noContent();
    }, { auth: true })
    .post("/api/channels/:id/polls", async ({ actor, params, body }) => {
      const { poll, created } = await createPoll(deps, actor, params.id, body);
      return json({ poll }, { status: created ? 201 : 200 });
    }, { auth: true, body: PollBody, bodyLimit: MAX_MESSAGE_REQUEST_BYTES })
    .get("/api/channels/:id/polls", async ({ actor, params, query }) => listPolls(deps, actor, params.id, query), { auth: true, query: PageQuery })
    .get("/api/polls/:id", async ({ actor, params }) => ({ poll: await getPoll(deps, actor, params.id) }), { auth: true })
    .post("/api/polls/:id/votes", async ({ actor, params, body }) => ({ poll: await vote(deps, actor, params.id, body) }), { auth: true, body: VoteBody })
    .delete("/api/polls/:id/votes", async ({ actor, params }) => ({ poll: await retractVote(deps, actor, params.id) }), { auth: true })
    .post("/api/polls/:id/close", async ({ actor, params }) => ({ poll: await closePoll(deps, actor, params.id) }), { auth: true })
    .post("/api/channels/:id/scheduled", async ({ actor, params, body }) => {
      const { scheduled, created } = await scheduleMessage(deps, actor, params.id, body);
      return json({ scheduled }, { status: created ? 201 : 200 });
    }, { auth: true, body: ScheduleBody, bodyLimit: MAX_MESSAGE_REQUEST_BYTES })
    .get("/api/scheduled", async ({ actor }) => ({ scheduled: await listScheduled(deps, actor) }), { auth: true })
    .delete("/api/scheduled/:id", async ({ actor, params }) => {
      await deleteScheduled(deps, actor, params.id);
      return noContent();
    }, { auth: true });
}
