/**
 * Single sign-on through OpenID Connect (seeds/001): enabled when OIDC_ISSUER_URL, OIDC_CLIENT_ID
 * and OIDC_CLIENT_SECRET are all set. The login page links to /auth/oidc/start.
 */
export { oidcRoutes, OIDC_SCOPES } from "./routes.ts";
export { signInWithOidc, deriveUsername, type VerifiedClaims } from "./provision.ts";
