/**
 * Token-bucket rate limits (seeds/000): general 20 req/s burst 50 per client IP; auth endpoints
 * 5 req/s burst 10. Buckets live in a store: in memory for one process; the Redis store (shared
 * by several instances) plugs in behind the same interface.
 */
export type Limit = Readonly<{ ratePerSec: number; burst: number }>;
/** `uploads`: per user, file upload session starts and parts (src/features/files/limits.ts UPLOAD_RATE when unset). */
export type RateLimits = Readonly<{ general: Limit; auth: Limit; uploads?: Limit }>;

export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  general: { ratePerSec: 20, burst: 50 },
  auth: { ratePerSec: 5, burst: 10 },
});

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSecs: number };

export interface RateLimitStore {
  /** Takes `cost` tokens (default 1; at most `limit.burst`, or it is never allowed). */
  take(key: string, limit: Limit, nowMs: number, cost?: number): TakeResult | Promise<TakeResult>;
}

type Bucket = { tokens: number; updatedMs: number };

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs = 0;

  take(key: string, limit: Limit, nowMs: number, cost = 1): TakeResult {
    this.sweep(nowMs);
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, updatedMs: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsed * limit.ratePerSec);
    bucket.updatedMs = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSecs: (cost - bucket.tokens) / limit.ratePerSec };
  }

  /** Forget buckets idle for a minute (they would be full again anyway): bounded memory under IP churn. */
  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < 60_000) return;
    this.lastSweepMs = nowMs;
    for (const [key, bucket] of this.buckets) if (nowMs - bucket.updatedMs > 60_000) this.buckets.delete(key);
  }
}

/** Auth endpoints: the JSON API under /api/auth, SSO, and the POSTs of the login/register/recover pages. */
export function isAuthEndpoint(method: string, path: string): boolean {
  if (path.startsWith("/api/auth/") || path === "/api/auth") return true;
  // SSO start and callback are sign-in attempts too, whatever the method (seeds/001).
  if (path.startsWith("/auth/oidc/")) return true;
  if (method !== "POST") return false;
  return path === "/login" || path === "/register" || path === "/recover" || path.startsWith("/login/") || path.startsWith("/auth/") || path.startsWith("/reset-password/");
}
