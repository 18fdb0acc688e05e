// The hub's contracts with the connection layer and the features (hub.ts re-exports them).
import type { Logger } from "../log.ts";
import type { ClientFrame, ErrorCode, ServerFrame, SubscriptionRevokedReason } from "../shared/protocol.ts";
import type { Fanout } from "./fanout.ts";
import type { RegisteredSocket } from "./registry.ts";
import type { SocketCounter } from "./socket-count.ts";

/** What the hub knows about an authenticated socket's user (a subset of the auth Actor). */
export type HubActor = Readonly<{ userId: string; sessionId: string; isAdmin: boolean; isOwner: boolean }>;

/** A refusal with its own error code and reason (a timeout: TIMED_OUT until …); `false` reads as CHANNEL_NOT_FOUND. */
export type SubscribeRefusal = { code: ErrorCode; message: string; reason: SubscriptionRevokedReason; until?: string; communityId?: string };
export type SubscribeVerdict = boolean | SubscribeRefusal;

/** Decides whether `actor` may receive `topic` (`channel:<id>`); features install the real one. */
export type AuthorizeSubscribe = (actor: HubActor, topic: string) => SubscribeVerdict | Promise<SubscribeVerdict>;

/**
 * A feature's handler for a client frame type (validated against the catalogue in protocol.ts
 * before it is called). Return a frame to answer this socket (e.g. `message:sent`); throw an
 * AppError to answer `error {code, message, ref}`; anything else thrown becomes INTERNAL_ERROR.
 * `socket` is the sending socket, for features whose state belongs to one socket (a voice seat).
 */
export type FrameHandler = (context: { actor: HubActor; frame: ClientFrame; socket: HubSocket }) => ServerFrame | void | Promise<ServerFrame | void>;

/** Told when this instance admits (+1) or releases (-1) one of the user's sockets. */
export type SocketsListener = (userId: string, delta: 1 | -1, socket: HubSocket) => void;

/** Topics a socket joins when it connects, beyond user:<id> and session:<id> (e.g. its communities). */
export type InitialTopics = (actor: HubActor) => string[] | Promise<string[]>;

/** One authenticated socket as the hub sees it; the connection layer implements it. */
export interface HubSocket extends RegisteredSocket {
  readonly actor: HubActor;
  /** Sends a protocol ping; the answer reaches hub.noteAlive (as does any frame). */
  ping(): void;
  /** Drops the connection at once, without a closing handshake (the peer is gone). */
  terminate(): void;
  /** The topics the socket is subscribed to now. */
  topics(): string[];
  send(frame: ServerFrame): void;
  /** Sends an error frame, then closes: the client learns why before the close event. */
  fail(code: ErrorCode, message: string, closeCode: number): void;
}

export type HubOptions = {
  log: Logger;
  fanout?: Fanout;
  version: string;
  now?: () => number;
  /** How often every open socket's session is re-checked against the database. */
  livenessIntervalMs?: number;
  authDeadlineMs?: number;
  frameRate?: { burst: number; perSec: number };
  maxSocketsPerUser?: number;
  maxFrameBytes?: number;
  /** Counts a user's sockets over every instance (Redis); without it the cap is per process. */
  socketCounter?: SocketCounter;
  /** At the cap, how long a socket has to answer a ping before it counts as dead. */
  probeTimeoutMs?: number;
};
