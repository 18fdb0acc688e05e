/** One process, no Redis: publishing is local delivery (Bun's server.publish) and nothing else. */
import type { Deliver, Fanout, FanoutMessage } from "./fanout.ts";

export class LocalFanout implements Fanout {
  readonly kind = "local" as const;
  private deliver: Deliver = () => {};

  async start(deliver: Deliver): Promise<void> {
    this.deliver = deliver;
  }

  publish(message: FanoutMessage): void {
    this.deliver(message);
  }

  async close(): Promise<void> {}
}
