/** HTTP API of messages (docs/messages.md). Validation lives in the services; bodies are loose objects. */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../app.ts";
import { json } from "../../http/render.ts";
import { authGuard } from "../auth/index.ts";
import { sendMessage } from "./send.ts";
import { getMessage, listHistory } from "./history.ts";

const Loose = t.Record(t.String(), t.Any());

export function messageApiRoutes(deps: AppDeps) {
  return new Elysia({ name: "messages-api" })
    .use(authGuard(deps))
    .post("/api/channels/:id/messages", async ({ actor, params, body }) => {
      const { message, created } = await sendMessage(deps, actor, params.id, body);
      return json({ message }, { status: created ? 201 : 200 });
    }, { auth: true, body: Loose })
    .get("/api/channels/:id/messages", async ({ actor, params, query }) => listHistory(deps, actor, params.id, query), { auth: true })
    .get("/api/channels/:id/messages/:messageId", async ({ actor, params }) => ({ message: await getMessage(deps, actor, params.id, params.messageId) }), { auth: true });
}
