// Automatic resend of failed sends (docs/messages.md "Nothing lost"). A send that failed with a
// retryable status (network error, 5xx, 429) is attempted again with capped exponential backoff
// plus jitter (never sooner than the server's Retry-After), and at once when the socket
// reconnects. The client id stays the same, so a send whose answer was lost never becomes two
// messages. Refusals (4xx) stay failed with the Retry button and the server's message;
// UNKNOWN_DEVICE (this device was revoked elsewhere) is never resent: the page shows the
// "set up encryption again" banner instead (device-revoked.ts).
import { isRetryableStatus } from "./send-queue.ts";

export const RESEND_BASE_MS = 1_000;
export const RESEND_CAP_MS = 30_000;
export const RESEND_MAX_AUTOMATIC = 8;

/** Delay before automatic attempt `n` (1-based): 1 s, 2 s, 4 s … capped at 30 s, ±50 % jitter. */
export function resendDelay(n: number, retryAfterSecs?: number, random: () => number = Math.random): number {
  const backoff = Math.min(RESEND_CAP_MS, RESEND_BASE_MS * 2 ** Math.max(0, n - 1));
  const jittered = backoff * (0.5 + random());
  return Math.max(jittered, (retryAfterSecs ?? 0) * 1000);
}

export function isAutoRetryable(error: { status: number; code: string }): boolean {
  // UNKNOWN_DEVICE: this device was revoked; no resend can succeed until it is set up again.
  return isRetryableStatus(error.status) && error.code !== "NO_DEVICES" && error.code !== "UNKNOWN_DEVICE";
}

/** Timers per client id; `retry` performs one attempt (it re-marks the row pending). */
export class AutoResend {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly retry: (clientId: string) => void) {}

  /** After a failure: schedules the next attempt; false when it stays failed for the user. */
  schedule(clientId: string, error: { status: number; code: string; retryAfterSecs?: number }): boolean {
    clearTimeout(this.timers.get(clientId));
    this.timers.delete(clientId);
    const n = (this.counts.get(clientId) ?? 0) + 1;
    if (!isAutoRetryable(error) || n > RESEND_MAX_AUTOMATIC) return false;
    this.counts.set(clientId, n);
    this.timers.set(clientId, setTimeout(() => {
      this.timers.delete(clientId);
      this.retry(clientId);
    }, resendDelay(n, error.retryAfterSecs)));
    return true;
  }

  /** The socket is back: every waiting resend goes now. */
  flush(): void {
    for (const [clientId, timer] of this.timers) {
      clearTimeout(timer);
      this.timers.delete(clientId);
      this.retry(clientId);
    }
  }

  /** Sent (or retried by hand): forget its count. */
  done(clientId: string): void {
    clearTimeout(this.timers.get(clientId));
    this.timers.delete(clientId);
    this.counts.delete(clientId);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
