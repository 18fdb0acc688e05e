/**
 * The WebSocket protocol, defined once for the server and the browser bundle: frame types
 * (`domain:verb`), limits, error codes, close codes, and the runtime validation of client frames.
 *
 * Validation is hand-written on purpose, not TypeBox: this file is imported by the browser
 * bundle, and TypeBox's Value.Check alone adds ~14 KiB gzip (measured with `bun build --minify`)
 * to a ~23 KiB crypto bundle. The validators below are a few hundred bytes, return a stable error
 * code and the offending field name, and never echo a schema (see docs/decisions/0001-ws-frame-validation.md).
 *
 * Wire format: one JSON object per text frame, `type` first by convention. Ids are UUID strings.
 */

/** Application limit for one frame: a 64 KiB ciphertext in base64 (~87 KiB) plus its envelope. */
export const MAX_FRAME_BYTES = 128 * 1024;
/** Hard transport limit (Bun's maxPayloadLength): beyond this the socket is closed with 1009. */
export const MAX_TRANSPORT_FRAME_BYTES = 1024 * 1024;
/** Per-connection token bucket for client frames (the reference's figures). */
export const FRAME_RATE = { burst: 30, perSec: 10 } as const;
export const MAX_SOCKETS_PER_USER = 8;
/** API clients without cookies must send `auth` within this, or the socket is closed (4408). */
export const AUTH_DEADLINE_MS = 5_000;
/** Clients send `ping` this often and treat two missed `pong`s as a dead socket. */
export const HEARTBEAT_INTERVAL_MS = 25_000;
export const MAX_CHANNELS_PER_FRAME = 100;
export const MAX_CHANNELS_PER_SOCKET = 500;
const MAX_REF_LENGTH = 64;
/** base64url of a 64 KiB ciphertext: the size check the server repeats on the decoded bytes. */
const MAX_CIPHERTEXT_CHARS = Math.ceil((64 * 1024 * 4) / 3);
const MAX_MENTIONS = 50;
const MAX_TOKEN_LENGTH = 4096;

/** Close codes (4xxx mirror the HTTP status they resemble). */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Bun's transport limit (MAX_TRANSPORT_FRAME_BYTES); below it oversized frames get an error frame. */
  TOO_BIG: 1009,
  /** First frame of an unauthenticated socket was not `auth`. */
  AUTH_REQUIRED: 4400,
  /** The token in `auth` was invalid, expired, or its session has ended. */
  UNAUTHENTICATED: 4401,
  /** No `auth` frame within AUTH_DEADLINE_MS. */
  AUTH_TIMEOUT: 4408,
  /** The session was revoked, logged out everywhere, expired, or the user was suspended. */
  SESSION_ENDED: 4409,
  /** The user already has MAX_SOCKETS_PER_USER sockets open. */
  TOO_MANY_SESSIONS: 4429,
} as const;

export const ERROR_CODES = [
  "INVALID_JSON",
  "INVALID_FRAME",
  "UNKNOWN_TYPE",
  "FRAME_TOO_LARGE",
  "RATE_LIMITED",
  "AUTH_REQUIRED",
  "AUTH_TIMEOUT",
  "UNAUTHENTICATED",
  "ALREADY_AUTHENTICATED",
  "SESSION_ENDED",
  "TOO_MANY_SESSIONS",
  "CHANNEL_NOT_FOUND",
  "TOO_MANY_SUBSCRIPTIONS",
  /** A subscribe to a community channel while the user is timed out there (the frame carries `until`). */
  "TIMED_OUT",
  "INTERNAL_ERROR",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

// ---------------------------------------------------------------- client -> server

export type PingFrame = { type: "ping"; ref?: string; ts?: number };
export type AuthFrame = { type: "auth"; token: string; ref?: string };
export type SubscribeFrame = { type: "subscribe" | "unsubscribe"; channelIds: string[]; ref?: string };
export type TypingFrame = { type: "typing:start" | "typing:stop"; channelId: string; ref?: string };
/** Sending over the socket (docs/messages.md): the HTTP body's fields in camelCase, answered by `message:sent {ref, message}`. */
export type MessageSendFrame = {
  type: "message:send";
  ref?: string;
  channelId: string;
  clientId: string;
  scheme: "sk" | "pw";
  ciphertext: string;
  senderDeviceId: string;
  replyToId?: string | null;
  threadRootId?: string | null;
  mentions?: string[];
  /** The channel's viewer-set version the ciphertext was encrypted for (docs/messages.md); refused with VIEWERS_CHANGED when older. */
  viewerVersion?: number | null;
};
/** Presence (docs/protocol.md): the user's chosen status; `invisible` is shown to others as offline. */
export const PRESENCE_STATUSES = ["online", "idle", "dnd", "invisible"] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];
/** What others see: a chosen status, or offline (no socket, or invisible). */
export type VisiblePresence = Exclude<PresenceStatus, "invisible"> | "offline";
export type PresenceSetFrame = { type: "presence:set"; status: PresenceStatus; ref?: string };
export type ClientFrame = PingFrame | AuthFrame | SubscribeFrame | TypingFrame | MessageSendFrame | PresenceSetFrame;
export type ClientFrameType = ClientFrame["type"];

// ---------------------------------------------------------------- server -> client

export type HelloFrame = { type: "hello"; userId: string; sessionId: string; serverVersion: string; heartbeatIntervalMs: number };
export type PongFrame = { type: "pong"; ref?: string; ts?: number; serverTime: number };
/** `code` is one of ERROR_CODES, or the AppError code of a feature's frame handler (e.g. FORBIDDEN). */
export type ErrorFrame = { type: "error"; code: ErrorCode | (string & Record<never, never>); message: string; ref?: string; field?: string; retryAfterMs?: number; channelIds?: string[]; until?: string };
export type SubscribedFrame = { type: "subscribed" | "unsubscribed"; channelIds: string[]; ref?: string };
/**
 * Every published event: `type` is a `domain:verb` (message:new, member:kicked …) and the rest is
 * the event's own payload. Features define their payloads; the hub only forwards them.
 */
export type EventFrame = { type: `${string}:${string}` } & Record<string, unknown>;
/**
 * Why the server took channel subscriptions away from an open socket (stable codes):
 *  - TIMED_OUT: a moderator timed the user out in the community; `until` says when the client may
 *    subscribe again (earlier if `member:timeout_removed` arrives). HTTP history stays readable.
 *  - ACCESS_CHANGED: a permission override, a private channel's membership, the channel's
 *    privacy or a role's permissions changed, and the user may no longer view the channel.
 *  - CHANNEL_DELETED: the channel is gone.
 * Kicks, bans and leaves keep their own `member:kicked|banned|left` frames.
 */
export const SUBSCRIPTION_REVOKED_REASONS = ["TIMED_OUT", "ACCESS_CHANGED", "CHANNEL_DELETED"] as const;
export type SubscriptionRevokedReason = (typeof SUBSCRIPTION_REVOKED_REASONS)[number];
export type SubscriptionRevokedFrame = { type: "subscription:revoked"; reason: SubscriptionRevokedReason; channelIds: string[]; communityId?: string; until?: string };
/**
 * Who may read these channels changed (docs/protocol.md): all channels of `communityId`, or the
 * listed `channelIds`. A hint to re-fetch the readers before the next send (issue 11 §1).
 */
export type ViewersChangedFrame = { type: "viewers:changed"; communityId?: string; channelIds?: string[] };
export type ServerFrame = HelloFrame | PongFrame | ErrorFrame | SubscribedFrame | SubscriptionRevokedFrame | ViewersChangedFrame | EventFrame;

// ---------------------------------------------------------------- validation

export type FrameProblem = { code: "INVALID_JSON" | "INVALID_FRAME" | "UNKNOWN_TYPE"; message: string; field?: string; ref?: string };
export type ParseResult = { ok: true; frame: ClientFrame } | ({ ok: false } & FrameProblem);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === "string" && UUID.test(value);

type Obj = Record<string, unknown>;
type Check = (frame: Obj) => string | null; // the offending field, or null when valid

const optionalRef: Check = (f) => (f.ref === undefined || (typeof f.ref === "string" && f.ref.length <= MAX_REF_LENGTH) ? null : "ref");
const channelIdList: Check = (f) => {
  const ids = f.channelIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_CHANNELS_PER_FRAME) return "channelIds";
  return ids.every(isUuid) ? null : "channelIds";
};
const only =
  (...allowed: string[]): Check =>
  (f) => {
    for (const key in f) if (key !== "type" && !allowed.includes(key)) return key;
    return null;
  };

/**
 * Per type: the checks, run in order; unknown keys are refused so typos surface early. Features
 * add their client frames here (this file is the one catalogue) and their handler with
 * hub.handleFrame(type, handler) on the server.
 */
const CLIENT_FRAMES: Record<ClientFrameType, Check[]> = {
  ping: [only("ref", "ts"), optionalRef, (f) => (f.ts === undefined || (typeof f.ts === "number" && Number.isFinite(f.ts)) ? null : "ts")],
  auth: [only("ref", "token"), optionalRef, (f) => (typeof f.token === "string" && f.token.length > 0 && f.token.length <= MAX_TOKEN_LENGTH ? null : "token")],
  subscribe: [only("ref", "channelIds"), optionalRef, channelIdList],
  unsubscribe: [only("ref", "channelIds"), optionalRef, channelIdList],
  "typing:start": [only("ref", "channelId"), optionalRef, (f) => (isUuid(f.channelId) ? null : "channelId")],
  "typing:stop": [only("ref", "channelId"), optionalRef, (f) => (isUuid(f.channelId) ? null : "channelId")],
  "presence:set": [only("ref", "status"), optionalRef, (f) => ((PRESENCE_STATUSES as readonly unknown[]).includes(f.status) ? null : "status")],
  "message:send": [
    only("ref", "channelId", "clientId", "scheme", "ciphertext", "senderDeviceId", "replyToId", "threadRootId", "mentions", "viewerVersion"),
    optionalRef,
    (f) => (isUuid(f.channelId) ? null : "channelId"),
    (f) => (isUuid(f.clientId) ? null : "clientId"),
    (f) => (f.scheme === "sk" || f.scheme === "pw" ? null : "scheme"),
    (f) => (typeof f.ciphertext === "string" && f.ciphertext.length > 0 && f.ciphertext.length <= MAX_CIPHERTEXT_CHARS && /^[A-Za-z0-9_-]+$/.test(f.ciphertext) ? null : "ciphertext"),
    (f) => (typeof f.senderDeviceId === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(f.senderDeviceId) ? null : "senderDeviceId"),
    (f) => (f.replyToId === undefined || f.replyToId === null || isUuid(f.replyToId) ? null : "replyToId"),
    (f) => (f.threadRootId === undefined || f.threadRootId === null || isUuid(f.threadRootId) ? null : "threadRootId"),
    (f) => (f.mentions === undefined || (Array.isArray(f.mentions) && f.mentions.length <= MAX_MENTIONS && f.mentions.every(isUuid)) ? null : "mentions"),
    (f) => (f.viewerVersion === undefined || f.viewerVersion === null || (Number.isSafeInteger(f.viewerVersion) && (f.viewerVersion as number) >= 1) ? null : "viewerVersion"),
  ],
};

export const CLIENT_FRAME_TYPES = Object.keys(CLIENT_FRAMES) as ClientFrameType[];

/** Parses and validates one client text frame. Never throws. */
export function parseClientFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: "INVALID_JSON", message: "The frame is not valid JSON." };
  }
  return validateClientFrame(value);
}

export function validateClientFrame(value: unknown): ParseResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, code: "INVALID_FRAME", message: "A frame must be a JSON object with a \"type\"." };
  }
  const frame = value as Obj;
  const ref = typeof frame.ref === "string" && frame.ref.length <= MAX_REF_LENGTH ? frame.ref : undefined;
  if (typeof frame.type !== "string") return { ok: false, code: "INVALID_FRAME", message: "A frame must be a JSON object with a \"type\".", field: "type", ref };
  const checks = Object.hasOwn(CLIENT_FRAMES, frame.type) ? CLIENT_FRAMES[frame.type as ClientFrameType] : undefined;
  if (!checks) return { ok: false, code: "UNKNOWN_TYPE", message: "Unknown frame type.", field: "type", ref };
  for (const check of checks) {
    const field = check(frame);
    if (field !== null) return { ok: false, code: "INVALID_FRAME", message: `The field "${field}" is missing or invalid.`, field, ref };
  }
  return { ok: true, frame: frame as ClientFrame };
}

/** Light check for the browser: is this a server frame we can dispatch on? */
export function parseServerFrame(text: string): ServerFrame | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    const type = (value as Obj).type;
    return typeof type === "string" && type.length > 0 ? (value as ServerFrame) : null;
  } catch {
    return null;
  }
}

/** Validates a `subscription:revoked` frame (the browser checks it before acting on it). */
export function isSubscriptionRevokedFrame(frame: unknown): frame is SubscriptionRevokedFrame {
  if (typeof frame !== "object" || frame === null) return false;
  const f = frame as Obj;
  return (
    f.type === "subscription:revoked" &&
    (SUBSCRIPTION_REVOKED_REASONS as readonly unknown[]).includes(f.reason) &&
    Array.isArray(f.channelIds) &&
    f.channelIds.every(isUuid) &&
    (f.communityId === undefined || isUuid(f.communityId)) &&
    (f.until === undefined || (typeof f.until === "string" && Number.isFinite(Date.parse(f.until))))
  );
}

/** Validates a `viewers:changed` frame: exactly one of a community id or 1–100 channel ids. */
export function isViewersChangedFrame(frame: unknown): frame is ViewersChangedFrame {
  if (typeof frame !== "object" || frame === null) return false;
  const f = frame as Obj;
  const community = f.communityId !== undefined;
  const channels = f.channelIds !== undefined;
  return (
    f.type === "viewers:changed" &&
    community !== channels &&
    (!community || isUuid(f.communityId)) &&
    (!channels || (Array.isArray(f.channelIds) && f.channelIds.length >= 1 && f.channelIds.length <= MAX_CHANNELS_PER_FRAME && f.channelIds.every(isUuid)))
  );
}

/** `domain:verb`, lower-case words: the only shape published event types may have. */
export const EVENT_TYPE = /^[a-z][a-z_]*:[a-z][a-z_]*$/;
