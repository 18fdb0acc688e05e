/**
 * HTTP face of the key service (JSON API under /api/keys). Handlers only validate (schemas.ts),
 * call the service and shape the response; Elysia types stay in this file.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../app.ts";
import { PayloadTooLargeError } from "../../errors.ts";
import { json } from "../../http/render.ts";
import { MAX_BACKUP_JSON_BYTES, MAX_BUNDLE_JSON_BYTES } from "../../shared/e2ee/index.ts";
import { authGuard } from "../auth/index.ts";
import { backupBody, deviceIdParams, registerDeviceBody, serverIdentityQuery, uploadPrekeysBody, userIdParams } from "./schemas.ts";
import { describeServerIdentity } from "./server-identity.ts";
import { fetchBundles, listDevicesOf, loadBackup, registerDevice, revokeDevice, storeBackup, uploadPrekeys } from "./service.ts";

/**
 * Body limits per route, enforced from Content-Length before the body is read or parsed (the
 * app-wide 110 MB guard is far too generous for key material). A body without Content-Length is
 * still bounded by the schemas' field lengths and the app-wide guard.
 */
const BODY_LIMITS: Record<string, number> = {
  "POST /api/keys/devices": MAX_BUNDLE_JSON_BYTES,
  "POST /api/keys/prekeys": MAX_BUNDLE_JSON_BYTES,
  "PUT /api/keys/backup": MAX_BACKUP_JSON_BYTES,
};

function refuseOversizedBody(request: Request): void {
  const max = BODY_LIMITS[`${request.method} ${new URL(request.url).pathname}`];
  if (max !== undefined && Number(request.headers.get("content-length") ?? 0) > max) {
    throw new PayloadTooLargeError(`The request body is larger than ${max} bytes.`);
  }
}

export function keysRoutes(deps: AppDeps) {
  return (
    new Elysia({ name: "keys" })
      .onRequest(({ request }) => refuseOversizedBody(request))
      .use(authGuard(deps))
      // Public: clients pin the server identity before (and independently of) signing in.
      .get("/api/keys/server-identity", ({ query }) => describeServerIdentity(deps, query.challenge).then((body) => json(body)), { query: serverIdentityQuery })
      .post("/api/keys/devices", async ({ actor, body }) => json(await registerDevice(deps, actor, body), { status: 201 }), {
        auth: true,
        body: registerDeviceBody,
      })
      .post("/api/keys/prekeys", async ({ actor, body }) => json(await uploadPrekeys(deps, actor, body)), {
        auth: true,
        body: uploadPrekeysBody,
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
      })
      .get("/api/keys/backup", async ({ actor }) => json(await loadBackup(deps, actor)), { auth: true })
  );
}


