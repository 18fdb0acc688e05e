/**
 * GET /auth/oidc/start     → redirect to the IdP (Authorization Code + PKCE S256, state, nonce)
 * GET /auth/oidc/callback  → exchange the code, verify the ID token, sign in or provision, redirect
 * Both are auth endpoints for rate limiting. Errors render as pages (this is browser navigation).
 */
import { Elysia, t } from "elysia";
import * as oidc from "openid-client";
import type { AppDeps } from "../../deps.ts";
import { clientIpOf } from "../../http/request-context.ts";
import { runInTransaction } from "../../db/tx.ts";
import { AppError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { parseCookies, sessionCookies, withCookies } from "../auth/cookies.ts";
import { safeRedirectTarget } from "../../http/redirect-target.ts";
import { seeOther } from "../../http/render.ts";
import { authKernelOf, createSession } from "../auth/index.ts";
import { getOidcConfiguration, redirectUriOf } from "./client.ts";
import { clearedFlowStateCookie, flowStateCookie, OIDC_STATE_COOKIE, signFlowState, verifyFlowState } from "./flow-state.ts";
import { signInWithOidc, type VerifiedClaims } from "./provision.ts";

export const OIDC_SCOPES = "openid email profile";

function claimsFrom(raw: oidc.IDToken | undefined): VerifiedClaims {
  if (!raw || typeof raw.iss !== "string" || typeof raw.sub !== "string" || raw.sub.length === 0 || raw.sub.length > 255) {
    throw new InvalidInputError("The identity provider's answer had no usable identity.", undefined, "OIDC_CLAIMS_INVALID");
  }
  const str = (v: unknown, max: number) => (typeof v === "string" && v.length <= max ? v : undefined);
  return {
    issuer: raw.iss,
    subject: raw.sub,
    email: str(raw.email, 254),
    emailVerified: raw.email_verified === true,
    preferredUsername: str(raw.preferred_username, 255),
    name: str(raw.name, 255),
  };
}

/** ID-token claims win over UserInfo for identity; profile claims fill what the ID token lacks. */
function pick(id: oidc.IDToken): Record<string, unknown> {
  return Object.fromEntries(Object.entries(id).filter(([, v]) => v !== undefined));
}

export function oidcRoutes(deps: AppDeps) {
  const settings = deps.config.oidc;
  const kernel = authKernelOf(deps);
  const requireEnabled = () => {
    if (!settings) throw new NotFoundError("Single sign-on is not configured on this server.");
    return settings;
  };

  return new Elysia({ name: "oidc" })
    .get(
      "/auth/oidc/start",
      async ({ query, request }) => {
        const s = requireEnabled();
        const configuration = await getOidcConfiguration(s);
        const verifier = oidc.randomPKCECodeVerifier();
        const flow = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, invite: query.invite?.trim() || undefined, returnTo: safeRedirectTarget(request, query.next, "/", deps.config.publicOrigin) };
        const url = oidc.buildAuthorizationUrl(configuration, {
          redirect_uri: redirectUriOf(s, request.url),
          scope: OIDC_SCOPES,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: "S256",
          state: flow.state,
          nonce: flow.nonce,
        });
        const token = await signFlowState(deps.secrets, flow, kernel.now());
        return withCookies(new Response(null, { status: 303, headers: { location: url.toString() } }), [flowStateCookie(deps.config, token)]);
      },
      { query: t.Object({ invite: t.Optional(t.String({ maxLength: 64 })), next: t.Optional(t.String({ maxLength: 512 })) }) },
    )
    .get("/auth/oidc/callback", async ({ request }) => {
      const s = requireEnabled();
      const flow = await verifyFlowState(deps.secrets, parseCookies(request.headers.get("cookie"))[OIDC_STATE_COOKIE], kernel.now());
      if (!flow) throw new InvalidInputError("This sign-in attempt expired or was started in another browser. Start again from the sign-in page.", undefined, "OIDC_STATE_INVALID");
      const configuration = await getOidcConfiguration(s);
      // Rebuild the callback URL from the configured redirect URI: behind a reverse proxy the URL
      // this process sees is not the one the IdP redirected the browser to.
      const redirectUri = redirectUriOf(s, request.url);
      const current = new URL(redirectUri);
      current.search = new URL(request.url).search;
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(configuration, current, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        deps.log.info("oidc.callback_failed", { error: error instanceof Error ? error.message : String(error) });
        if (error instanceof oidc.AuthorizationResponseError) throw new AppError("OIDC_DENIED", 400, "The identity provider did not sign you in. Start again from the sign-in page.");
        throw new AppError("OIDC_FAILED", 400, "Single sign-on could not be completed. Start again from the sign-in page.");
      }
      const idClaims = tokens.claims();
      // Many providers (oidc-provider by default) put email/profile claims only in UserInfo, not
      // in the ID token. UserInfo is checked to be about the same subject as the ID token.
      let profile: Record<string, unknown> = {};
      if (idClaims && configuration.serverMetadata().userinfo_endpoint) {
        try {
          profile = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        } catch (error) {
          deps.log.info("oidc.userinfo_failed", { error: error instanceof Error ? error.message : String(error) });
        }
      }
      const claims = claimsFrom(idClaims ? ({ ...profile, ...pick(idClaims) } as oidc.IDToken) : undefined);
      const meta = { ip: clientIpOf(request), userAgent: request.headers.get("user-agent") };
      const now = new Date(kernel.now());
      const issued = await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx) => {
        const signedIn = await signInWithOidc(tx, deps.config, claims, { invite: flow.invite, meta, now });
        return createSession(tx, kernel, signedIn.userId, meta);
      });
      return withCookies(seeOther(request, flow.returnTo), [...sessionCookies(deps.config, issued), clearedFlowStateCookie(deps.config)]);
    });
}
