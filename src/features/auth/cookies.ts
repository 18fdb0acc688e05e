/**
 * Browser session cookies: HttpOnly (scripts never see tokens), SameSite=Lax, Path=/, Secure when
 * PUBLIC_URL is https. The access cookie lives as long as the JWT; the refresh cookie 30 days.
 */
import type { Config } from "../../config.ts";
import { ACCESS_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_SECS } from "./tokens.ts";

export const ACCESS_COOKIE = "hearth_access";
export const REFRESH_COOKIE = "hearth_refresh";
/** Second step of a 2FA login in the browser: an opaque, short-lived, single-purpose token. */
export const PENDING_LOGIN_COOKIE = "hearth_pending_login";

export function parseCookies(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    try {
      out[name] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // a malformed cookie is simply absent
    }
  }
  return out;
}

export function serializeCookie(config: Config, name: string, value: string, maxAgeSecs: number, sameSite: "Lax" | "Strict" = "Lax"): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, "Path=/", "HttpOnly", `SameSite=${sameSite}`, `Max-Age=${maxAgeSecs}`];
  if (config.secureCookies) parts.push("Secure");
  return parts.join("; ");
}

export function sessionCookies(config: Config, tokens: { accessToken: string; refreshToken?: string }): string[] {
  const cookies = [serializeCookie(config, ACCESS_COOKIE, tokens.accessToken, ACCESS_TOKEN_TTL_SECS)];
  if (tokens.refreshToken) cookies.push(serializeCookie(config, REFRESH_COOKIE, tokens.refreshToken, REFRESH_TOKEN_TTL_SECS));
  return cookies;
}

export function clearedSessionCookies(config: Config): string[] {
  return [serializeCookie(config, ACCESS_COOKIE, "", 0), serializeCookie(config, REFRESH_COOKIE, "", 0)];
}

/** Headers of a response that sets cookies (several Set-Cookie lines). */
export function withCookies(response: Response, cookies: string[]): Response {
  for (const cookie of cookies) response.headers.append("set-cookie", cookie);
  return response;
}
