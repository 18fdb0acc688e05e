/** HTTP face of key sharing (docs/messages.md "Key requests"): Elysia types stay here. */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { authGuard } from "../auth/index.ts";
import { checkKeyEntitlements, MAX_ENTITLEMENT_ITEMS } from "./entitlements.ts";
import { listKeyHolders } from "./holders.ts";

const ChannelParams = t.Object({ id: t.String({ maxLength: 64 }) });
// A uuid is 36 characters, "poll:" adds 5, a comma 1.
const EntitlementQuery = t.Object({ user_id: t.String({ maxLength: 64 }), ids: t.String({ minLength: 1, maxLength: MAX_ENTITLEMENT_ITEMS * 42 }) });

export function keySharingRoutes(deps: AppDeps) {
  return new Elysia({ name: "key-sharing" })
    .use(authGuard(deps))
    .get("/api/channels/:id/key-entitlements", ({ actor, params, query }) => checkKeyEntitlements(deps, actor, params.id, query), { auth: true, params: ChannelParams, query: EntitlementQuery })
    .get("/api/channels/:id/key-holders", ({ actor, params }) => listKeyHolders(deps, actor, params.id), { auth: true, params: ChannelParams });
}
