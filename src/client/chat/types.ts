// Message JSON as in docs/messages.md (HTTP snake_case). WebSocket frames carry the same message
// in camelCase; `normaliseMessage` maps either shape to this one.

export type Scheme = "sk" | "pw";
/** A webhook's plaintext message (docs/integrations.md): shown escaped with the badge, never decrypted. */
export type WebhookText = { content: string; username: string | null };

export interface Reaction {
  emoji: string;
  count: number;
  me?: boolean;
}

export interface ChatMessage {
  id: string;
  channel_id: string;
  seq: number;
  sender_id: string;
  /** The author's name from the server's data for this message; null once the account is deleted. */
  sender_name: string | null;
  sender_device_id: string;
  client_id: string;
  scheme: Scheme;
  ciphertext: string | null;
  reply_to_id: string | null;
  thread_root_id: string | null;
  mentions: string[];
  /** @everyone / @here, set by the server only when the sender was allowed it. */
  mention_all: "everyone" | "here" | null;
  reactions: Reaction[];
  /** Live replies of a thread root (0 for thread replies and plain messages). */
  thread_reply_count: number;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  /** Set only on webhook messages (scheme "wh" from the server). */
  webhook?: WebhookText | null;
}

const KEYS: Array<[keyof ChatMessage, string]> = [
  ["id", "id"],
  ["channel_id", "channelId"],
  ["seq", "seq"],
  ["sender_id", "senderId"],
  ["sender_name", "senderName"],
  ["sender_device_id", "senderDeviceId"],
  ["client_id", "clientId"],
  ["scheme", "scheme"],
  ["ciphertext", "ciphertext"],
  ["reply_to_id", "replyToId"],
  ["thread_root_id", "threadRootId"],
  ["mentions", "mentions"],
  ["mention_all", "mentionAll"],
  ["reactions", "reactions"],
  ["thread_reply_count", "threadReplyCount"],
  ["created_at", "createdAt"],
  ["edited_at", "editedAt"],
  ["deleted_at", "deletedAt"],
  ["webhook", "webhook"],
];

/** The author as a reader sees it: the server's name for the message, "Deleted user" once the account is gone. */
export function authorName(m: Pick<ChatMessage, "sender_id" | "sender_name">): string {
  return m.sender_name ?? (m.sender_id ? "Unknown" : "Deleted user");
}

/** Who a row is by, for grouping and the header: a webhook's rows carry the badge (view.ts). */
export function authorKey(m: Pick<ChatMessage, "sender_id" | "webhook">): string {
  return m.webhook ? `webhook:${m.webhook.username}` : m.sender_id ?? "";
}

/** Accepts the HTTP (snake_case) or WebSocket (camelCase) shape; null when it is not a message. */
export function normaliseMessage(raw: unknown): ChatMessage | null {
  if (typeof raw !== "object" || raw === null) return null;
  const o = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [snake, camel] of KEYS) out[snake] = o[snake] !== undefined ? o[snake] : o[camel];
  if (typeof out.id !== "string" || typeof out.channel_id !== "string" || typeof out.seq !== "number") return null;
  // A webhook message keeps the channel's scheme for the client's types; `webhook` marks it.
  if (out.scheme === "wh") out.scheme = (out.webhook && typeof (out.webhook as WebhookText).content === "string") || out.deleted_at ? "sk" : "";
  else out.webhook = null;
  if (out.scheme !== "sk" && out.scheme !== "pw") return null;
  out.mentions = Array.isArray(out.mentions) ? out.mentions : [];
  if (out.mention_all !== "everyone" && out.mention_all !== "here") out.mention_all = null;
  out.reactions = Array.isArray(out.reactions) ? out.reactions : [];
  out.thread_reply_count = typeof out.thread_reply_count === "number" && out.thread_reply_count > 0 ? out.thread_reply_count : 0;
  for (const k of ["reply_to_id", "thread_root_id", "edited_at", "deleted_at", "ciphertext", "sender_name"] as const) out[k] ??= null;
  out.client_id ??= "";
  out.created_at ??= new Date().toISOString();
  return out as unknown as ChatMessage;
}

/** Dispatched on document when the server says this device is no longer registered (UNKNOWN_DEVICE). */
export const DEVICE_REVOKED_EVENT = "chat:device-revoked";
