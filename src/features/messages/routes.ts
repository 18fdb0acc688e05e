/** HTTP API of messages (docs/messages.md). Bodies are stated in body-schemas.ts; the services check what a schema cannot. */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { sendMessage } from "./send.ts";
import { getMessage, listHistory } from "./history.ts";
import { deleteMessage, editMessage } from "./edit-delete.ts";
import { setReaction } from "./reactions.ts";
import { listPins, setPin } from "./pins.ts";
import { markRead } from "./read-state.ts";
import { readStateRoutes } from "./read-routes.ts";
import { listReadReceipts } from "./receipts.ts";
import { listThread } from "./threads.ts";
import { messageExtrasRoutes } from "./extras-routes.ts";
import { messageVersionRoutes } from "./versions.ts";
import { ackToDevice, fetchToDevice, queueToDevice } from "./to-device.ts";
import { MAX_MESSAGE_REQUEST_BYTES, MAX_TO_DEVICE_REQUEST_BYTES } from "./schemas.ts";
import { EditBody, ReadBody, SendBody, ToDeviceAckBody, ToDeviceBody } from "./body-schemas.ts";

const noContent = () => new Response(null, { status: 204 });

// The services parse these with their own codes (INVALID_LIMIT, INVALID_AFTER_SEQ … in
// docs/messages.md); the schemas name the parameters and bound their length.
const HistoryQuery = queryOf({ before_seq: text(20), after_seq: text(20), around: text(36), limit: text(16) });
const ThreadQuery = queryOf({ after_seq: text(20), limit: text(16) });
const ToDeviceQuery = queryOf({ device_id: text(64), after: text(64) });

export function messageApiRoutes(deps: AppDeps) {
  return new Elysia({ name: "messages-api" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .use(messageExtrasRoutes(deps))
    .use(readStateRoutes(deps))
    .use(messageVersionRoutes(deps))
    .post("/api/channels/:id/messages", async ({ actor, params, body }) => {
      const { message, created } = await sendMessage(deps, actor, params.id, body);
      return json({ message }, { status: created ? 201 : 200 });
    }, { auth: true, body: SendBody, bodyLimit: MAX_MESSAGE_REQUEST_BYTES })
    .get("/api/channels/:id/messages", async ({ actor, params, query }) => listHistory(deps, actor, params.id, query), { auth: true, query: HistoryQuery })
    .get("/api/channels/:id/messages/:messageId", async ({ actor, params }) => ({ message: await getMessage(deps, actor, params.id, params.messageId) }), { auth: true })
    .patch("/api/messages/:id", async ({ actor, params, body }) => ({ message: await editMessage(deps, actor, params.id, body) }), { auth: true, body: EditBody, bodyLimit: MAX_MESSAGE_REQUEST_BYTES })
    .delete("/api/messages/:id", async ({ actor, params }) => {
      await deleteMessage(deps, actor, params.id);
      return noContent();
    }, { auth: true })
    .put("/api/messages/:id/reactions/:emoji", async ({ actor, params }) => ({ reactions: await setReaction(deps, actor, params.id, params.emoji, true) }), { auth: true })
    .delete("/api/messages/:id/reactions/:emoji", async ({ actor, params }) => ({ reactions: await setReaction(deps, actor, params.id, params.emoji, false) }), { auth: true })
    .get("/api/messages/:id/thread", async ({ actor, params, query }) => listThread(deps, actor, params.id, query), { auth: true, query: ThreadQuery })
    .get("/api/channels/:id/pins", async ({ actor, params }) => listPins(deps, actor, params.id), { auth: true })
    .put("/api/channels/:id/pins/:messageId", async ({ actor, params }) => {
      await setPin(deps, actor, params.id, params.messageId, true);
      return noContent();
    }, { auth: true })
    .delete("/api/channels/:id/pins/:messageId", async ({ actor, params }) => {
      await setPin(deps, actor, params.id, params.messageId, false);
      return noContent();
    }, { auth: true })
    .put("/api/channels/:id/read", async ({ actor, params, body }) => {
      await markRead(deps, actor, params.id, body);
      return noContent();
    }, { auth: true, body: ReadBody })
    .get("/api/channels/:id/read-receipts", async ({ actor, params }) => ({ receipts: await listReadReceipts(deps, actor, params.id) }), { auth: true })
    .post("/api/e2ee/to-device", async ({ actor, body }) => json(await queueToDevice(deps, actor, body), { status: 202 }), { auth: true, body: ToDeviceBody, bodyLimit: MAX_TO_DEVICE_REQUEST_BYTES })
    .get("/api/e2ee/to-device", async ({ actor, query }) => ({ messages: await fetchToDevice(deps, actor, query) }), { auth: true, query: ToDeviceQuery })
    .post("/api/e2ee/to-device/ack", async ({ actor, body }) => {
      await ackToDevice(deps, actor, body);
      return noContent();
    }, { auth: true, body: ToDeviceAckBody });
}
