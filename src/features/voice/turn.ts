/**
 * TURN credentials (seeds/000 "TURN hardening"): coturn runs with `--use-auth-secret`, so Hearth
 * mints short-lived credentials from the shared TURN_AUTH_SECRET (the TURN REST scheme coturn
 * implements): username = "{expiry unix seconds}:{user id}", credential =
 * base64(HMAC-SHA1(TURN_AUTH_SECRET, username)). coturn recomputes the HMAC and refuses an expired
 * username by itself, so a leaked credential dies with its TTL and nothing is stored here.
 *
 * The answer also carries `iceServers`, ready for `new RTCPeerConnection({ iceServers })`:
 * the TURN URLs with the credential, STUN on the same host, and the deprecated ICE_SERVERS.
 * Without TURN (no secret or no URLs) it is a STUN-only answer.
 */
import { createHmac } from "node:crypto";
import type { Config, IceServer } from "../../config.ts";

/** Public STUN the seeds name as the default when the operator configures nothing. */
export const DEFAULT_STUN_URLS = ["stun:stun.l.google.com:19302"] as const;

export type TurnCredentials = {
  /** TURN_URLS (empty when TURN is not configured). */
  urls: string[];
  username: string | null;
  credential: string | null;
  /** Seconds the credential is valid for (TURN_CREDENTIAL_TTL_SECS, clamped to 60–86400); null without TURN. */
  ttl: number | null;
  /** When it stops working (ISO time); null without TURN. Fetch a new one before starting a call after this. */
  expiresAt: string | null;
  /** Everything to pass as RTCConfiguration.iceServers. */
  iceServers: IceServer[];
};

export function isTurnConfigured(turn: Config["turn"]): boolean {
  return Boolean(turn.authSecret) && turn.urls.length > 0;
}

/** The username/credential pair coturn's use-auth-secret accepts until `expirySecs`. */
export function turnCredentialFor(secret: string, userId: string, expirySecs: number): { username: string; credential: string } {
  const username = `${expirySecs}:${userId}`;
  return { username, credential: createHmac("sha1", secret).update(username).digest("base64") };
}

/** `stun:host:port` for each plaintext `turn:` URL: coturn answers STUN on its TURN port. */
function stunUrlsOf(turnUrls: readonly string[]): string[] {
  const out = new Set<string>();
  for (const url of turnUrls) {
    if (!url.startsWith("turn:")) continue;
    out.add(`stun:${url.slice("turn:".length).replace(/\?.*$/, "")}`);
  }
  return [...out];
}

export function mintTurnCredentials(config: Config, userId: string, nowMs: number): TurnCredentials {
  const legacy = config.iceServers ? config.iceServers.map((s) => ({ ...s })) : [];
  if (!isTurnConfigured(config.turn)) {
    const stun = legacy.length > 0 ? [] : [{ urls: [...DEFAULT_STUN_URLS] }];
    return { urls: [], username: null, credential: null, ttl: null, expiresAt: null, iceServers: [...stun, ...legacy] };
  }
  const ttl = config.turn.credentialTtlSecs;
  const expirySecs = Math.floor(nowMs / 1000) + ttl;
  const { username, credential } = turnCredentialFor(config.turn.authSecret!, userId, expirySecs);
  const urls = [...config.turn.urls];
  const stun = stunUrlsOf(urls);
  return {
    urls,
    username,
    credential,
    ttl,
    expiresAt: new Date(expirySecs * 1000).toISOString(),
    iceServers: [...(stun.length > 0 ? [{ urls: stun }] : []), { urls, username, credential }, ...legacy],
  };
}
