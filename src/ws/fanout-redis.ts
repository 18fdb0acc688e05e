/**
 * Several instances: every message is delivered locally at once and published on one Redis
 * pub/sub channel; every instance delivers what other instances published to its own sockets.
 * The instance id in each message lets an instance skip its own (already delivered) messages.
 *
 * Redis pub/sub is at-most-once: an instance that is disconnected from Redis misses events. That
 * is acceptable because events are notifications of committed state; clients catch up over HTTP
 * after a reconnect (per-channel sequences, messaging issue). A subscriber connection that drops
 * is re-created with backoff, and its sockets are not closed meanwhile.
 */
import { RedisClient } from "bun";
import type { Logger } from "../log.ts";
import { decodeFanout, encodeFanout, type Deliver, type Fanout, type FanoutMessage } from "./fanout.ts";

export const FANOUT_CHANNEL = "hearth:fanout";

export class RedisFanout implements Fanout {
  readonly kind = "redis" as const;
  private deliver: Deliver = () => {};
  private readonly publisher: RedisClient;
  private subscriber: RedisClient | undefined;
  private closed = false;
  /** Set once the first subscribe succeeded: only then is a lost connection re-established. */
  private listening = false;
  private reconnectTimer: Timer | undefined;

  constructor(
    private readonly url: string,
    readonly instanceId: string,
    private readonly log: Logger,
    private readonly channel = FANOUT_CHANNEL,
  ) {
    this.publisher = new RedisClient(url, { connectionTimeout: 5_000 });
  }

  async start(deliver: Deliver): Promise<void> {
    this.deliver = deliver;
    // The subscriber first: it does not retry, so a wrong REDIS_URL fails startup at once instead
    // of after the publisher's ~30 s of reconnect attempts.
    await this.subscribe();
    this.listening = true;
    await this.publisher.connect();
  }

  private async subscribe(): Promise<void> {
    // A subscribed connection can issue only (P)SUBSCRIBE commands, hence a second client.
    const subscriber = new RedisClient(this.url, { connectionTimeout: 5_000, autoReconnect: false });
    this.subscriber = subscriber;
    subscriber.onclose = () => {
      if (this.closed || !this.listening || this.subscriber !== subscriber) return;
      this.log.warn("ws.fanout.redis_disconnected", { instance: this.instanceId });
      this.scheduleResubscribe(1_000);
    };
    await subscriber.subscribe(this.channel, (wire) => this.receive(wire));
  }

  private scheduleResubscribe(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.subscribe().then(
        () => this.log.info("ws.fanout.redis_resubscribed", { instance: this.instanceId }),
        () => this.scheduleResubscribe(Math.min(delayMs * 2, 30_000)),
      );
    }, delayMs);
  }

  private receive(wire: string): void {
    const decoded = decodeFanout(wire);
    if (!decoded || decoded.origin === this.instanceId) return;
    try {
      this.deliver(decoded.message);
    } catch (error) {
      this.log.error("ws.fanout.deliver_failed", { error: error instanceof Error ? error : String(error) });
    }
  }

  publish(message: FanoutMessage): void {
    this.deliver(message);
    const sent: Promise<unknown> = this.publisher.publish(this.channel, encodeFanout(this.instanceId, message)).catch((error: unknown) => {
      this.log.error("ws.fanout.publish_failed", { kind: message.kind, error: error instanceof Error ? error.message : String(error) });
    });
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /** Publishes not yet acknowledged by Redis: close() lets them finish (a process that publishes and exits, hearthctl or a shutdown, would otherwise lose them). */
  private readonly inFlight = new Set<Promise<unknown>>();

  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight.size > 0) await Promise.race([Promise.allSettled([...this.inFlight]), Bun.sleep(2_000)]);
    clearTimeout(this.reconnectTimer);
    this.subscriber?.close();
    this.publisher.close();
  }
}
