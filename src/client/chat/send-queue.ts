// Optimistic sends: pending → sent (server seq) or failed (with retry). A retry reuses the
// client id, so a send whose answer was lost never becomes two messages (the server returns the
// first one for a known client id). Pure; unit-tested.

export type SendState = "pending" | "sent" | "failed";

export interface OutgoingMessage {
  clientId: string;
  channelId: string;
  text: string;
  replyToId?: string;
  /** Uploaded files the message carries (sender.ts Attached). */
  files?: { files: unknown[]; ids: string[] };
  state: SendState;
  attempts: number;
  messageId?: string;
  seq?: number;
  error?: string;
}

export class SendQueue {
  private readonly items = new Map<string, OutgoingMessage>();

  constructor(private readonly newId: () => string = () => crypto.randomUUID()) {}

  enqueue(channelId: string, text: string, replyToId?: string): OutgoingMessage {
    const item: OutgoingMessage = { clientId: this.newId(), channelId, text, replyToId, state: "pending", attempts: 1 };
    this.items.set(item.clientId, item);
    return item;
  }

  get(clientId: string): OutgoingMessage | undefined {
    return this.items.get(clientId);
  }

  markSent(clientId: string, message: { id: string; seq: number }): OutgoingMessage | undefined {
    const item = this.items.get(clientId);
    if (!item) return undefined;
    item.state = "sent";
    item.messageId = message.id;
    item.seq = message.seq;
    item.error = undefined;
    return item;
  }

  markFailed(clientId: string, error: string): OutgoingMessage | undefined {
    const item = this.items.get(clientId);
    if (!item || item.state === "sent") return item;
    item.state = "failed";
    item.error = error;
    return item;
  }

  /** Back to pending with the same client id; undefined unless it had failed. */
  retry(clientId: string): OutgoingMessage | undefined {
    const item = this.items.get(clientId);
    if (!item || item.state !== "failed") return undefined;
    item.state = "pending";
    item.attempts++;
    item.error = undefined;
    return item;
  }

  pending(): OutgoingMessage[] {
    return [...this.items.values()].filter((i) => i.state === "pending");
  }

  /** Sent items are forgotten once the timeline holds them. */
  forget(clientId: string): void {
    this.items.delete(clientId);
  }
}

/** Failures worth retrying automatically (network, 5xx, 429); 4xx refusals need the user. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}
