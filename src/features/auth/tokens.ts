/**
 * Access tokens (JWT, EdDSA over Ed25519, 15 minutes, audience pinned to "hearth") and the opaque
 * random tokens we store only as hashes (refresh tokens, recovery and backup codes, invites).
 * jose is used directly: algorithms and audience are pinned on verify, so a token signed with
 * "none" or HS256 over the public key, or minted for another service, never passes.
 * Every token carries the key id (`kid`, RFC 7638 thumbprint of the public key) in its header,
 * and verification requires it to be the current key's: after a rotation, old tokens fail even
 * before their signature is checked, and sessions remember the same id (see sessions.ts).
 */
import { importPKCS8, importSPKI, jwtVerify, SignJWT, type CryptoKey } from "jose";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Secrets } from "../../secrets.ts";

export const ACCESS_TOKEN_TTL_SECS = 15 * 60;
export const REFRESH_TOKEN_TTL_SECS = 30 * 24 * 60 * 60;
export const JWT_AUDIENCE = "hearth";
export const JWT_ISSUER = "hearth";

export type AccessClaims = { userId: string; sessionId: string };

export type TokenSigner = {
  /** The current signing key's id; sessions created now are bound to it. */
  keyId: string;
  signAccessToken(claims: AccessClaims, nowMs: number): Promise<string>;
  /** Null for anything invalid or expired; callers never need to know why. */
  verifyAccessToken(token: string, nowMs: number): Promise<AccessClaims | null>;
  /**
   * Short-lived single-purpose tokens (the pending second step of a 2FA login). Their audience
   * is "hearth:<purpose>", so they never pass as access tokens and vice versa.
   */
  signPurposeToken(subject: string, purpose: string, ttlSecs: number, nowMs: number, extra?: Record<string, string>): Promise<string>;
  verifyPurposeToken(token: string, purpose: string, nowMs: number): Promise<{ subject: string; claims: Record<string, unknown> } | null>;
};

export function createTokenSigner(secrets: Secrets): TokenSigner {
  let keys: Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> | undefined;
  const loadKeys = () =>
    (keys ??= Promise.all([importPKCS8(secrets.jwtPrivatePem, "EdDSA"), importSPKI(secrets.jwtPublicPem, "EdDSA")]).then(([privateKey, publicKey]) => ({ privateKey, publicKey })));
  const keyId = secrets.jwtKeyId;
  const header = { alg: "EdDSA", typ: "JWT", kid: keyId };
  return {
    keyId,
    async signAccessToken(claims, nowMs) {
      const { privateKey } = await loadKeys();
      const iat = Math.floor(nowMs / 1000);
      return new SignJWT({ sid: claims.sessionId })
        .setProtectedHeader(header)
        .setSubject(claims.userId)
        .setAudience(JWT_AUDIENCE)
        .setIssuer(JWT_ISSUER)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECS)
        .sign(privateKey);
    },
    async verifyAccessToken(token, nowMs) {
      if (token.length > 4096) return null;
      const { publicKey } = await loadKeys();
      try {
        const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
          algorithms: ["EdDSA"],
          audience: JWT_AUDIENCE,
          issuer: JWT_ISSUER,
          currentDate: new Date(nowMs),
          clockTolerance: 5,
        });
        if (protectedHeader.kid !== keyId) return null;
        if (typeof payload.sub !== "string" || typeof payload.sid !== "string") return null;
        if (!isUuid(payload.sub) || !isUuid(payload.sid)) return null;
        return { userId: payload.sub, sessionId: payload.sid };
      } catch {
        return null;
      }
    },
    async signPurposeToken(subject, purpose, ttlSecs, nowMs, extra = {}) {
      const { privateKey } = await loadKeys();
      const iat = Math.floor(nowMs / 1000);
      return new SignJWT(extra)
        .setProtectedHeader(header)
        .setSubject(subject)
        .setAudience(`${JWT_AUDIENCE}:${purpose}`)
        .setIssuer(JWT_ISSUER)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSecs)
        .sign(privateKey);
    },
    async verifyPurposeToken(token, purpose, nowMs) {
      if (token.length > 4096) return null;
      const { publicKey } = await loadKeys();
      try {
        const { payload, protectedHeader } = await jwtVerify(token, publicKey, { algorithms: ["EdDSA"], audience: `${JWT_AUDIENCE}:${purpose}`, issuer: JWT_ISSUER, currentDate: new Date(nowMs) });
        if (protectedHeader.kid !== keyId) return null;
        if (typeof payload.sub !== "string" || !isUuid(payload.sub)) return null;
        return { subject: payload.sub, claims: payload as Record<string, unknown> };
      } catch {
        return null;
      }
    },
  };
}

/** 32 random bytes, base64url (43 characters): refresh tokens, pending-login tokens. */
export function generateOpaqueToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** SHA-256 hex. Enough for high-entropy secrets (tokens, 80-bit codes); passwords use Argon2id. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function constantTimeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

/** 32 symbols: A–Z without I and O, digits 2–9 (no 0/O/1/I confusion when typed from paper). */
export const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** `groups` groups of four symbols joined by dashes; 5 bits of entropy per symbol. */
export function generateCode(groups: number): string {
  const bytes = randomBytes(groups * 4);
  const symbols = Array.from(bytes, (b) => CODE_ALPHABET[b & 31]!);
  const parts: string[] = [];
  for (let i = 0; i < groups; i++) parts.push(symbols.slice(i * 4, i * 4 + 4).join(""));
  return parts.join("-");
}

/** Upper-cases and re-dashes what a user typed, so "abcd efgh" and "ABCD-EFGH" compare equal. */
export function normalizeCode(input: string, groups: number): string | null {
  const compact = input.toUpperCase().replace(/[\s-]/g, "");
  if (compact.length !== groups * 4 || ![...compact].every((c) => CODE_ALPHABET.includes(c))) return null;
  return compact.match(/.{4}/g)!.join("-");
}

import { isUuid } from "../../shared/ids.ts";
export { isUuid };
