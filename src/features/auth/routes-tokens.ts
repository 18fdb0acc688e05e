/**
 * The JSON API of personal access tokens (docs/auth.md "API tokens"). A session (cookie or a
 * signed-in API client) manages them; a token never reaches these routes (access-tokens.ts).
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { createAccessToken, listAccessTokens, revokeAccessToken, TOKEN_EXPIRY_DAYS, type AccessTokenView } from "./access-tokens.ts";
import { authGuard } from "./guard.ts";
import { authKernelOf } from "./kernel.ts";
import { requestMeta } from "./request-meta.ts";
import { IdParams } from "./schemas.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function accessTokenJson(v: AccessTokenView) {
  return { id: v.id, name: v.name, scope: v.scope, created_at: iso(v.createdAt), last_used_at: iso(v.lastUsedAt), expires_at: iso(v.expiresAt) };
}

const CreateTokenBody = t.Object({
  name: t.String({ minLength: 1, maxLength: 64, description: "What the token is for (shown in settings)." }),
  scope: t.Union([t.Literal("read"), t.Literal("write")], { description: '"read": GET requests only; "write": everything the API allows a token.' }),
  expires_in_days: t.Optional(t.Union([...TOKEN_EXPIRY_DAYS.map((d) => t.Literal(d)), t.Null()], { description: "Days until it expires; null or absent: never." })),
});

export function accessTokenApiRoutes(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  return new Elysia({ name: "access-tokens-api" })
    .use(authGuard(deps))
    .get("/api/account/tokens", async ({ actor }) => ({ tokens: (await listAccessTokens(deps.database.db, actor.userId, new Date(kernel.now()))).map(accessTokenJson) }), { auth: true })
    .post(
      "/api/account/tokens",
      async ({ actor, body, request }) => {
        const { token, view } = await createAccessToken(kernel, actor.userId, { name: body.name, scope: body.scope, expiresInDays: body.expires_in_days ?? null }, requestMeta(request));
        // The secret is in this answer and nowhere else: it is stored as a hash.
        return json({ token, access_token: accessTokenJson(view) }, { status: 201 });
      },
      { auth: true, body: CreateTokenBody },
    )
    .delete(
      "/api/account/tokens/:id",
      async ({ actor, params, request }) => {
        await revokeAccessToken(kernel, actor.userId, params.id, requestMeta(request));
        return new Response(null, { status: 204 });
      },
      { auth: true, params: IdParams },
    );
}
