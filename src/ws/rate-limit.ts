/**
 * Per-connection token bucket for client frames. Two numbers on the socket's state instead of a
 * map: it costs nothing per socket and dies with the socket. An over-limit frame is dropped with a
 * RATE_LIMITED error frame; the socket stays open (a burst of typing events is not an attack).
 */
export type Bucket = { tokens: number; updatedMs: number };

export function newBucket(burst: number, nowMs: number): Bucket {
  return { tokens: burst, updatedMs: nowMs };
}

/** Takes one token; returns 0 when allowed, else the milliseconds until the next token. */
export function takeToken(bucket: Bucket, limit: { burst: number; perSec: number }, nowMs: number): number {
  const elapsedSecs = Math.max(0, nowMs - bucket.updatedMs) / 1000;
  bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsedSecs * limit.perSec);
  bucket.updatedMs = nowMs;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return Math.ceil(((1 - bucket.tokens) / limit.perSec) * 1000);
}
