/**
 * The OpenID Connect relying party (openid-client): discovery from OIDC_ISSUER_URL, cached per
 * process and retried after a failure (an IdP that was down at boot must not disable SSO forever).
 * Plain-http issuers are accepted only on loopback (development, tests); anything else must be https.
 */
import * as oidc from "openid-client";
import type { Config } from "../../config.ts";
import { ServiceUnavailableError } from "../../errors.ts";

export type OidcSettings = NonNullable<Config["oidc"]>;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function isInsecureAllowed(issuerUrl: string): boolean {
  const url = new URL(issuerUrl);
  return url.protocol === "http:" && LOOPBACK.has(url.hostname);
}

const cache = new Map<string, Promise<oidc.Configuration>>();

export async function getOidcConfiguration(settings: OidcSettings): Promise<oidc.Configuration> {
  const key = `${settings.issuerUrl}|${settings.clientId}`;
  let pending = cache.get(key);
  if (!pending) {
    const insecure = isInsecureAllowed(settings.issuerUrl);
    pending = oidc.discovery(new URL(settings.issuerUrl), settings.clientId, settings.clientSecret, undefined, insecure ? { execute: [oidc.allowInsecureRequests] } : undefined);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  try {
    return await pending;
  } catch {
    throw new ServiceUnavailableError("The single sign-on provider cannot be reached right now. Try again in a moment.");
  }
}

export function redirectUriOf(settings: OidcSettings, requestUrl: string): string {
  return settings.redirectUri ?? new URL("/auth/oidc/callback", requestUrl).toString();
}
