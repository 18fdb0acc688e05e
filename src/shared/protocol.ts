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

import { findInvalidText, isValidText } from "./text.ts";

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
  /** The server cannot check the credential right now (database outage): reconnect with backoff. */
  TRY_AGAIN_LATER: 1013,
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
  /** A string in the frame holds a NUL or an unpaired surrogate (shared/text.ts); `field` names it. */
  "INVALID_TEXT",
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
  /** The database cannot be reached (an outage): retry after `retryAfterMs`; after `auth` the socket closes with 1013. */
  "DATABASE_UNAVAILABLE",
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
  /** Complete uploads of the sender for this channel that the message carries (docs/files.md "Attaching"), ≤ 10. */
  fileIds?: string[];
};
/** Presence (docs/protocol.md): the user's chosen status; `invisible` is shown to others as offline. */
export const PRESENCE_STATUSES = ["online", "idle", "dnd", "invisible"] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];
/** What others see: a chosen status, or offline (no socket, or invisible). */
export type VisiblePresence = Exclude<PresenceStatus, "invisible"> | "offline";
export type PresenceSetFrame = { type: "presence:set"; status: PresenceStatus; ref?: string };

// Voice and video (docs/voice.md): seats in calls, and the WebRTC signalling relayed between them.
/** A call holds at most this many people (a full mesh: each sends one stream per peer). */
export const MAX_VOICE_PARTICIPANTS = 25;
/** Bounds of one relayed signal (a Chromium audio+video+screen offer is ~6–10 KB). */
export const MAX_SDP_CHARS = 32_768;
export const MAX_CANDIDATE_CHARS = 1_024;
export const MAX_CANDIDATES_PER_SIGNAL = 32;
/** The fingerprint attestation: base64url of a pairwise Double Ratchet message (docs/crypto.md, "Calls"). */
export const MAX_ATTESTATION_CHARS = 8_192;
/** One `rtc:signal` frame may address every other participant (still within MAX_FRAME_BYTES). */
export const MAX_SIGNALS_PER_FRAME = MAX_VOICE_PARTICIPANTS - 1;
/** A ring names at most this many callees (a group DM's size). */
export const MAX_RING_USERS = 10;
const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export type VoiceJoinFrame = { type: "voice:join"; channelId: string; deviceId: string; muted?: boolean; deafened?: boolean; ref?: string };
export type VoiceLeaveFrame = { type: "voice:leave"; channelId: string; ref?: string };
export type VoiceStateFrame = { type: "voice:state"; channelId: string; muted?: boolean; deafened?: boolean; video?: boolean; screen?: boolean; speaking?: boolean; ref?: string };
export type VoiceRingFrame = { type: "voice:ring"; channelId: string; userIds?: string[]; ref?: string };
export type VoiceDeclineFrame = { type: "voice:decline"; channelId: string; ref?: string };
/** RTCSessionDescriptionInit as relayed: only offers and answers travel (rollback is local). */
export type RtcDescription = { type: "offer" | "answer"; sdp: string };
/** RTCIceCandidateInit; `candidate: ""` is the end-of-candidates marker. */
export type RtcCandidate = { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null };
/** What one participant sends another: any of a description, trickled candidates, the fingerprint attestation. */
export type RtcSignal = { to: string; description?: RtcDescription; candidates?: RtcCandidate[]; attestation?: string };
export type RtcSignalFrame = { type: "rtc:signal"; channelId: string; signals: RtcSignal[]; ref?: string };
export type VoiceFrame = VoiceJoinFrame | VoiceLeaveFrame | VoiceStateFrame | VoiceRingFrame | VoiceDeclineFrame | RtcSignalFrame;
export type ClientFrame = PingFrame | AuthFrame | SubscribeFrame | TypingFrame | MessageSendFrame | PresenceSetFrame | VoiceFrame;
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

/** One seat of a call as every viewer of the channel sees it (voice:* events, GET …/voice). */
export type VoiceParticipant = {
  userId: string;
  /** Changes at every (re)join: peers key their RTCPeerConnection by it. */
  connId: string;
  /** The E2EE device in the call: fingerprint attestations are encrypted to it and signed by it. */
  deviceId: string;
  muted: boolean;
  deafened: boolean;
  video: boolean;
  screen: boolean;
  joinedAt: string;
  /** False while the seat's socket is gone and the grace runs (the person is reconnecting). */
  connected: boolean;
};
/** Why a seat ended (`voice:participant_left.reason`, `voice:ended.reason`). */
export const VOICE_END_REASONS = ["LEFT", "DISCONNECTED", "MOVED", "KICKED", "BANNED", "TIMED_OUT", "ACCESS_CHANGED", "SESSION_ENDED", "CHANNEL_DELETED"] as const;
export type VoiceEndReason = (typeof VOICE_END_REASONS)[number];
/** Why a ring stopped (`voice:ring_ended.reason`). */
export const RING_END_REASONS = ["ANSWERED", "DECLINED", "TIMEOUT", "CANCELLED"] as const;
export type RingEndReason = (typeof RING_END_REASONS)[number];
/** A relayed signal as the addressee receives it. */
export type RtcSignalEvent = { type: "rtc:signal"; channelId: string; from: string; fromUserId: string; fromDeviceId: string; to: string; description?: RtcDescription; candidates?: RtcCandidate[]; attestation?: string };

// ---------------------------------------------------------------- validation

export type FrameProblem = { code: "INVALID_JSON" | "INVALID_FRAME" | "INVALID_TEXT" | "UNKNOWN_TYPE"; message: string; field?: string; ref?: string };
export type ParseResult = { ok: true; frame: ClientFrame } | ({ ok: false } & FrameProblem);

import { isUuid } from "./ids.ts";
export { isUuid };

type Obj = Record<string, unknown>;
type Check = (frame: Obj) => string | null; // the offending field, or null when valid

const optionalRef: Check = (f) => (f.ref === undefined || (typeof f.ref === "string" && f.ref.length <= MAX_REF_LENGTH) ? null : "ref");
const channelIdList: Check = (f) => {
  const ids = f.channelIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_CHANNELS_PER_FRAME) return "channelIds";
  return ids.every(isUuid) ? null : "channelIds";
};
const channelId: Check = (f) => (isUuid(f.channelId) ? null : "channelId");
const optionalUuid =
  (key: string): Check =>
  (f) =>
    f[key] == null || isUuid(f[key]) ? null : key;
const optionalUuids =
  (key: string, max: number): Check =>
  (f) => {
    const v = f[key];
    return v === undefined || (Array.isArray(v) && v.length <= max && v.every(isUuid)) ? null : key;
  };
const optionalBool =
  (key: string): Check =>
  (f) =>
    f[key] === undefined || typeof f[key] === "boolean" ? null : key;
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
    only("ref", "channelId", "clientId", "scheme", "ciphertext", "senderDeviceId", "replyToId", "threadRootId", "mentions", "viewerVersion", "fileIds"),
    optionalRef,
    (f) => (isUuid(f.channelId) ? null : "channelId"),
    (f) => (isUuid(f.clientId) ? null : "clientId"),
    (f) => (f.scheme === "sk" || f.scheme === "pw" ? null : "scheme"),
    (f) => (typeof f.ciphertext === "string" && f.ciphertext.length > 0 && f.ciphertext.length <= MAX_CIPHERTEXT_CHARS && /^[A-Za-z0-9_-]+$/.test(f.ciphertext) ? null : "ciphertext"),
    (f) => (typeof f.senderDeviceId === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(f.senderDeviceId) ? null : "senderDeviceId"),
    optionalUuid("replyToId"),
    optionalUuid("threadRootId"),
    optionalUuids("mentions", MAX_MENTIONS),
    (f) => (f.viewerVersion === undefined || f.viewerVersion === null || (Number.isSafeInteger(f.viewerVersion) && (f.viewerVersion as number) >= 1) ? null : "viewerVersion"),
    optionalUuids("fileIds", 10), // MAX_FILES_PER_MESSAGE (src/features/files/limits.ts)
  ],
  "voice:join": [only("ref", "channelId", "deviceId", "muted", "deafened"), optionalRef, channelId, (f) => (typeof f.deviceId === "string" && DEVICE_ID.test(f.deviceId) ? null : "deviceId"), optionalBool("muted"), optionalBool("deafened")],
  "voice:leave": [only("ref", "channelId"), optionalRef, channelId],
  "voice:state": [
    only("ref", "channelId", "muted", "deafened", "video", "screen", "speaking"),
    optionalRef,
    channelId,
    ...(["muted", "deafened", "video", "screen", "speaking"] as const).map(optionalBool),
    (f) => (["muted", "deafened", "video", "screen", "speaking"].some((k) => f[k] !== undefined) ? null : "muted"),
  ],
  "voice:ring": [only("ref", "channelId", "userIds"), optionalRef, channelId, (f) => (f.userIds === undefined || (Array.isArray(f.userIds) && f.userIds.length > 0 && f.userIds.length <= MAX_RING_USERS && f.userIds.every(isUuid)) ? null : "userIds")],
  "voice:decline": [only("ref", "channelId"), optionalRef, channelId],
  "rtc:signal": [
    only("ref", "channelId", "signals"),
    optionalRef,
    channelId,
    (f) => (Array.isArray(f.signals) && f.signals.length > 0 && f.signals.length <= MAX_SIGNALS_PER_FRAME && f.signals.every(isRtcSignal) ? null : "signals"),
  ],
};

export const CLIENT_FRAME_TYPES = Object.keys(CLIENT_FRAMES) as ClientFrameType[];

function isRtcDescription(value: unknown): value is RtcDescription {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const d = value as Obj;
  for (const key in d) if (key !== "type" && key !== "sdp") return false;
  return (d.type === "offer" || d.type === "answer") && typeof d.sdp === "string" && d.sdp.length <= MAX_SDP_CHARS && d.sdp.startsWith("v=0");
}

const optionalNullableString = (value: unknown, max: number) => value === undefined || value === null || (typeof value === "string" && value.length <= max);

function isRtcCandidate(value: unknown): value is RtcCandidate {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const c = value as Obj;
  for (const key in c) if (key !== "candidate" && key !== "sdpMid" && key !== "sdpMLineIndex" && key !== "usernameFragment") return false;
  return (
    typeof c.candidate === "string" &&
    c.candidate.length <= MAX_CANDIDATE_CHARS &&
    optionalNullableString(c.sdpMid, 64) &&
    optionalNullableString(c.usernameFragment, 256) &&
    (c.sdpMLineIndex === undefined || c.sdpMLineIndex === null || (Number.isInteger(c.sdpMLineIndex) && (c.sdpMLineIndex as number) >= 0 && (c.sdpMLineIndex as number) <= 255))
  );
}

/** One entry of `rtc:signal.signals`: an addressee and at least one of the three payloads, nothing else. */
export function isRtcSignal(value: unknown): value is RtcSignal {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const s = value as Obj;
  for (const key in s) if (key !== "to" && key !== "description" && key !== "candidates" && key !== "attestation") return false;
  if (!isUuid(s.to)) return false;
  if (s.description === undefined && s.candidates === undefined && s.attestation === undefined) return false;
  if (s.description !== undefined && !isRtcDescription(s.description)) return false;
  if (s.candidates !== undefined && !(Array.isArray(s.candidates) && s.candidates.length > 0 && s.candidates.length <= MAX_CANDIDATES_PER_SIGNAL && s.candidates.every(isRtcCandidate))) return false;
  return s.attestation === undefined || (typeof s.attestation === "string" && s.attestation.length > 0 && s.attestation.length <= MAX_ATTESTATION_CHARS && /^[A-Za-z0-9_-]+$/.test(s.attestation));
}

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
  const ref = typeof frame.ref === "string" && frame.ref.length <= MAX_REF_LENGTH && isValidText(frame.ref) ? frame.ref : undefined;
  // The same text rule as every HTTP input, before any field is looked at.
  const badText = findInvalidText(frame);
  if (badText !== null) return { ok: false, code: "INVALID_TEXT", message: `The field "${badText}" contains a character that is not allowed (a NUL or an unpaired surrogate).`, field: badText, ref };
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
  const f = frame as Obj | null;
  if (f?.type !== "viewers:changed") return false;
  return f.communityId === undefined ? channelIdList(f) === null : f.channelIds === undefined && isUuid(f.communityId);
}

/** `domain:verb`, lower-case words: the only shape published event types may have. */
export const EVENT_TYPE = /^[a-z][a-z_]*:[a-z][a-z_]*$/;
