/**
 * Request-body bytes in flight: bytes a request has been admitted to send (its declared
 * Content-Length, or what was read so far of a chunked body) from the moment the body guard
 * admits it until the response is done. Capped per client IP and for the whole process, so one
 * client (or many) cannot make the server hold unbounded bodies in memory at once.
 */
export type InFlightLimits = Readonly<{ perClient: number; total: number }>;

/**
 * perClient fits one key backup (the largest body a route takes today, ~43 MiB) plus ordinary
 * traffic; total bounds what all clients together may make the process hold.
 */
export const DEFAULT_IN_FLIGHT_LIMITS: InFlightLimits = Object.freeze({ perClient: 64 * 1024 * 1024, total: 256 * 1024 * 1024 });

export type ReserveOutcome = "ok" | "client-full" | "process-full";

export class InFlightBodies {
  private readonly byClient = new Map<string, number>();
  private totalBytes = 0;

  constructor(readonly limits: InFlightLimits = DEFAULT_IN_FLIGHT_LIMITS) {}

  /** Takes `bytes` for `client` if both caps allow it; nothing is taken when refused. */
  reserve(client: string, bytes: number): ReserveOutcome {
    if (bytes <= 0) return "ok";
    const held = this.byClient.get(client) ?? 0;
    if (held + bytes > this.limits.perClient) return "client-full";
    if (this.totalBytes + bytes > this.limits.total) return "process-full";
    this.byClient.set(client, held + bytes);
    this.totalBytes += bytes;
    return "ok";
  }

  release(client: string, bytes: number): void {
    if (bytes <= 0) return;
    const left = (this.byClient.get(client) ?? 0) - bytes;
    // Delete at zero: the map holds only clients with bodies in flight (bounded under IP churn).
    if (left > 0) this.byClient.set(client, left);
    else this.byClient.delete(client);
    this.totalBytes = Math.max(0, this.totalBytes - bytes);
  }

  /** What is held now (tests and the leak check read it). */
  snapshot(): { total: number; clients: number; byClient: Record<string, number> } {
    return { total: this.totalBytes, clients: this.byClient.size, byClient: Object.fromEntries(this.byClient) };
  }
}
