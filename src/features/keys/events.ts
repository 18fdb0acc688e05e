/**
 * Events of the key service. They are queued in the transaction's outbox and published only
 * after COMMIT (src/db/tx.ts), so nobody hears about a device that was rolled back.
 *
 * Topics: the right audience of `keys:changed` is everyone who may message the owner (their
 * clients must re-fetch the device list and encrypt to the new device / stop encrypting to a
 * revoked one). Contact lists and the WebSocket hub come later, so for now we publish to
 *   user:<ownerId>   the owner's own other devices
 *   keys:<ownerId>   a topic the hub will subscribe each contact's sockets to
 * and call the in-process listeners (onKeysChanged) so the hub can fan out by itself.
 */
import type { Outbox } from "../../db/tx.ts";
import type { KeysKernel } from "./kernel.ts";

export type KeysChangedEvent = {
  type: "keys:changed";
  userId: string;
  change: "device_added" | "device_revoked";
  deviceId: string;
};

export type KeysLowEvent = { type: "keys:low"; userId: string; deviceId: string; remaining: number };

export function queueKeysChanged(kernel: KeysKernel, outbox: Outbox, event: Omit<KeysChangedEvent, "type">): void {
  const full: KeysChangedEvent = { type: "keys:changed", ...event };
  outbox.push(`user:${event.userId}`, full);
  outbox.push(`keys:${event.userId}`, full);
  outbox.afterCommit(() => {
    for (const listener of kernel.listeners) {
      try {
        listener(full);
      } catch (error) {
        kernel.deps.log.error("keys.listener_failed", { error: error instanceof Error ? error : String(error) });
      }
    }
  });
}

/** Only the owner hears that a device runs low: its client uploads a new batch. */
export function queueKeysLow(outbox: Outbox, event: Omit<KeysLowEvent, "type">): void {
  outbox.push(`user:${event.userId}`, { type: "keys:low", ...event } satisfies KeysLowEvent);
}
