/**
 * HTTP face of the key service (JSON API under /api/keys). Handlers only validate (schemas.ts),
 * call the service and shape the response; Elysia types stay in this file.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { json } from "../../http/render.ts";
import { MAX_BACKUP_JSON_BYTES, MAX_BUNDLE_JSON_BYTES } from "../../shared/e2ee/index.ts";
import { authGuard } from "../auth/index.ts";
import { backupBody, deviceIdParams, registerDeviceBody, serverIdentityQuery, uploadPrekeysBody, userIdParams } from "./schemas.ts";
import { describeServerIdentity } from "./server-identity.ts";
import { fetchBundles, listDevicesOf, loadBackup, registerDevice, revokeDevice, storeBackup, uploadPrekeys } from "./service.ts";

export function keysRoutes(deps: AppDeps) {
  return (
    new Elysia({ name: "keys" })
      .use(authGuard(deps))
      // Body budgets: the wire formats' maxima (a bundle's JSON, a backup's base64url blob).
      .use(bodyBudgets)
      // Public: clients pin the server identity before (and independently of) signing in.
      .get("/api/keys/server-identity", ({ query }) => describeServerIdentity(deps, query.challenge).then((body) => json(body)), { query: serverIdentityQuery })
      .post("/api/keys/devices", async ({ actor, body }) => json(await registerDevice(deps, actor, body), { status: 201 }), {
        auth: true,
        body: registerDeviceBody,
        bodyLimit: MAX_BUNDLE_JSON_BYTES,
      })
      .post("/api/keys/prekeys", async ({ actor, body }) => json(await uploadPrekeys(deps, actor, body)), {
        auth: true,
        body: uploadPrekeysBody,
        bodyLimit: MAX_BUNDLE_JSON_BYTES,
      })
      .get("/api/keys/users/:id/devices", async ({ actor, params }) => json(await listDevicesOf(deps, actor, params.id)), { auth: true, params: userIdParams })
      .get("/api/keys/users/:id/bundles", async ({ actor, params }) => json(await fetchBundles(deps, actor, params.id)), { auth: true, params: userIdParams })
      .delete(
        "/api/keys/devices/:deviceId",
        async ({ actor, params }) => {
          await revokeDevice(deps, actor, params.deviceId);
          return new Response(null, { status: 204 });
        },
        { auth: true, params: deviceIdParams },
      )
      .put("/api/keys/backup", async ({ actor, body }) => json(await storeBackup(deps, actor, body)), {
        auth: true,
        body: backupBody,
        bodyLimit: MAX_BACKUP_JSON_BYTES,
      })
      .get("/api/keys/backup", async ({ actor }) => json(await loadBackup(deps, actor)), { auth: true })
  );
}


