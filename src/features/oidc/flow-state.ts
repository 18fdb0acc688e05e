/**
 * The state of one sign-in attempt (PKCE verifier, state, nonce, optional invite code) travels in
 * an HttpOnly cookie signed with the server's Ed25519 key. Its audience differs from access
 * tokens', so neither can stand in for the other; it expires after 10 minutes and is cleared
 * at the callback. The browser can read nothing (HttpOnly), and the IdP never sees the verifier.
 */
import { importPKCS8, importSPKI, jwtVerify, SignJWT } from "jose";
import type { Secrets } from "../../secrets.ts";
import type { Config } from "../../config.ts";
import { serializeCookie } from "../auth/cookies.ts";

export const OIDC_STATE_COOKIE = "hearth_oidc";
const AUDIENCE = "hearth-oidc-state";
const TTL_SECS = 600;

export type FlowState = { state: string; nonce: string; verifier: string; invite?: string; returnTo: string };

export async function signFlowState(secrets: Secrets, flow: FlowState, nowMs: number): Promise<string> {
  const key = await importPKCS8(secrets.jwtPrivatePem, "EdDSA");
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ ...flow }).setProtectedHeader({ alg: "EdDSA" }).setAudience(AUDIENCE).setIssuedAt(iat).setExpirationTime(iat + TTL_SECS).sign(key);
}

export async function verifyFlowState(secrets: Secrets, token: string | undefined, nowMs: number): Promise<FlowState | null> {
  if (!token || token.length > 4096) return null;
  try {
    const key = await importSPKI(secrets.jwtPublicPem, "EdDSA");
    const { payload } = await jwtVerify(token, key, { algorithms: ["EdDSA"], audience: AUDIENCE, currentDate: new Date(nowMs) });
    const { state, nonce, verifier, invite, returnTo } = payload as Record<string, unknown>;
    if (typeof state !== "string" || typeof nonce !== "string" || typeof verifier !== "string" || typeof returnTo !== "string") return null;
    return { state, nonce, verifier, returnTo, invite: typeof invite === "string" ? invite : undefined };
  } catch {
    return null;
  }
}

export function flowStateCookie(config: Config, token: string): string {
  return serializeCookie(config, OIDC_STATE_COOKIE, token, TTL_SECS);
}

export function clearedFlowStateCookie(config: Config): string {
  return serializeCookie(config, OIDC_STATE_COOKIE, "", 0);
}
