/**
 * Trusted-device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").
 * A browser that has signed in successfully as a user receives `hearth_device`: a token
 * "<user id>.<nonce>.<HMAC-SHA256(user id, nonce)>" under a key derived from the JWT private key
 * (src/secrets.ts). Failed sign-ins from a browser presenting a valid token for that user count
 * against that device's own lockout counter, not the account's shared one, so ten wrong passwords
 * from strangers cannot lock the owner out of the browser they normally use.
 *
 * Stateless on purpose: the token proves "this browser once signed in as this user" and nothing
 * more (it is not a session and grants no access). Its counters live in login_attempts like the
 * others, so they survive restarts and are shared by every instance. One cookie holds the tokens
 * of up to MAX_TOKENS users (a shared family computer), newest first. HttpOnly, SameSite=Strict,
 * Secure when PUBLIC_URL is https, one year.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Config } from "../../config.ts";
import { parseCookies, serializeCookie } from "./cookies.ts";
import type { AuthKernel } from "./kernel.ts";
import { constantTimeEqualHex, isUuid } from "./tokens.ts";

export const DEVICE_COOKIE = "hearth_device";
const MAX_AGE_SECS = 365 * 24 * 3600;
const MAX_TOKENS = 5;
const NONCE = /^[A-Za-z0-9_-]{22}$/;

function signatureOf(key: Uint8Array, userId: string, nonce: string): string {
  return createHmac("sha256", key).update(`hearth-device-v1|${userId}|${nonce}`).digest("hex");
}

function tokensOf(cookieValue: string | undefined): string[] {
  if (!cookieValue || cookieValue.length > 2048) return [];
  return cookieValue.split("~").slice(0, MAX_TOKENS);
}

/** The nonce of a valid token for `userId` in the cookie value, or null (absent, forged, another user's). */
export function trustedDeviceNonce(key: Uint8Array, cookieValue: string | undefined, userId: string): string | null {
  for (const token of tokensOf(cookieValue)) {
    const [id, nonce, signature] = token.split(".");
    if (id !== userId || !nonce || !signature || !NONCE.test(nonce) || !/^[0-9a-f]{64}$/.test(signature)) continue;
    if (constantTimeEqualHex(signature, signatureOf(key, userId, nonce))) return nonce;
  }
  return null;
}

/** The raw device cookie of a request ("" when absent). */
export function deviceCookieOf(request: Request): string {
  return parseCookies(request.headers.get("cookie"))[DEVICE_COOKIE] ?? "";
}

/**
 * The Set-Cookie line after a successful sign-in as `userId`: this browser's existing token for
 * the user is kept (its counter continues), otherwise a new one is minted; either way it moves to
 * the front and the cookie's lifetime starts again. Other users' valid-looking tokens are kept.
 */
export function trustedDeviceCookie(config: Config, key: Uint8Array, cookieValue: string | undefined, userId: string): string {
  if (!isUuid(userId)) throw new Error("trustedDeviceCookie: not a user id");
  const nonce = trustedDeviceNonce(key, cookieValue, userId) ?? randomBytes(16).toString("base64url");
  const mine = `${userId}.${nonce}.${signatureOf(key, userId, nonce)}`;
  const others = tokensOf(cookieValue).filter((t) => /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{22}\.[0-9a-f]{64}$/.test(t) && !t.startsWith(`${userId}.`));
  return serializeCookie(config, DEVICE_COOKIE, [mine, ...others].slice(0, MAX_TOKENS).join("~"), MAX_AGE_SECS, "Strict");
}

/** trustedDeviceCookie for the browser that sent `request`, with this server's key and settings. */
export function trustedDeviceCookieFor(kernel: AuthKernel, request: Request, userId: string): string {
  return trustedDeviceCookie(kernel.deps.config, kernel.deps.secrets.deviceCookieKey, deviceCookieOf(request), userId);
}
