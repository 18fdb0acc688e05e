/**
 * One socket: its authentication state, rate-limit bucket and the handling of client frames.
 * Every invalid frame gets an `error` frame with a stable code and the socket stays usable;
 * only authentication failures close it. Nothing thrown here reaches Elysia's error hook (that
 * would send an HTTP-shaped response down the socket).
 */
import type { ServerWebSocket } from "bun";
import {
  AUTH_DEADLINE_MS,
  CLOSE,
  HEARTBEAT_INTERVAL_MS,
  MAX_CHANNELS_PER_SOCKET,
  MAX_FRAME_BYTES,
  parseClientFrame,
  type ClientFrame,
  type ErrorCode,
  type ErrorFrame,
  type ServerFrame,
  type SubscribeFrame,
  type TypingFrame,
} from "../shared/protocol.ts";
import { AppError, DatabaseUnavailableError } from "../errors.ts";
import { DATABASE_RETRY_AFTER_SECS, isDatabaseUnavailable } from "../db/error-kinds.ts";
import type { Hub, HubActor, HubSocket, SubscribeRefusal, SubscribeVerdict } from "./hub.ts";
import { newBucket, takeToken, type Bucket } from "./rate-limit.ts";
import { channelTopic, sessionTopic, userTopic } from "./topics.ts";
import { noteFrameReceived } from "../metrics/registry.ts";

/** Checks a Bearer token from an `auth` frame; null when invalid or the session has ended. */
export type TokenAuthenticator = (token: string) => Promise<HubActor | null>;

/** Typing relays are throttled per socket: at most one `typing:start` every 3 s. */
const TYPING_INTERVAL_MS = 3_000;

export class Connection implements HubSocket {
  private actorValue: HubActor | undefined;
  private readonly bucket: Bucket;
  private authTimer: Timer | undefined;
  private authenticating = false;
  private closed = false;
  private lastTypingMs = 0;

  constructor(
    private readonly hub: Hub,
    private readonly raw: ServerWebSocket<unknown>,
    private readonly authenticate: TokenAuthenticator,
  ) {
    this.bucket = newBucket(hub.options.frameRate.burst, hub.now());
  }

  get actor(): HubActor {
    if (!this.actorValue) throw new Error("socket not authenticated");
    return this.actorValue;
  }
  get userId(): string {
    return this.actor.userId;
  }
  get sessionId(): string {
    return this.actor.sessionId;
  }

  /** Cookie-authenticated at upgrade: admitted at once. Otherwise the `auth` deadline starts. */
  open(actor: HubActor | null, authStartedMs: number): void {
    if (actor) {
      void this.admit(actor, authStartedMs);
      return;
    }
    this.authTimer = setTimeout(() => {
      if (!this.actorValue) this.fail("AUTH_TIMEOUT", "No auth frame was received in time.", CLOSE.AUTH_TIMEOUT);
    }, this.hub.options.authDeadlineMs ?? AUTH_DEADLINE_MS);
  }

  /**
   * Registers the socket (so revocations and kicks reach it from now on), joins the topics the
   * features say it should hold, and only then sends `hello`: a client that fetches missed
   * history after hello cannot miss an event published in between.
   */
  private async admit(actor: HubActor, authStartedMs: number): Promise<void> {
    this.actorValue = actor;
    if (!(await this.hub.admit(this, authStartedMs))) return;
    if (this.closed) {
      // Closed while the shared socket count was asked: onClose found nothing to release yet.
      this.hub.release(this);
      return;
    }
    const topics = await this.hub.topicsFor(actor);
    if (this.closed) return;
    for (const topic of [userTopic(actor.userId), sessionTopic(actor.sessionId), ...topics]) this.raw.subscribe(topic);
    this.send({ type: "hello", userId: actor.userId, sessionId: actor.sessionId, serverVersion: this.hub.version, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
  }

  onClose(): void {
    this.closed = true;
    clearTimeout(this.authTimer);
    if (this.actorValue) this.hub.release(this);
  }

  /** The answer to a protocol ping (ours, or Bun's idle ping). */
  onPong(): void {
    if (this.actorValue && !this.closed) this.hub.noteAlive(this);
  }

  // ------------------------------------------------------------ HubSocket

  send(frame: ServerFrame): void {
    if (!this.closed) this.raw.sendText(JSON.stringify(frame));
  }

  subscribe(topic: string): void {
    if (!this.closed) this.raw.subscribe(topic);
  }

  topics(): string[] {
    return this.closed ? [] : this.raw.subscriptions;
  }

  unsubscribe(topic: string): void {
    if (!this.closed) this.raw.unsubscribe(topic);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    // Leave every topic first: nothing published from now on may reach this socket.
    for (const topic of this.raw.subscriptions) this.raw.unsubscribe(topic);
    this.closed = true;
    clearTimeout(this.authTimer);
    this.raw.close(code, reason);
  }

  ping(): void {
    if (!this.closed) this.raw.ping();
  }

  terminate(): void {
    if (this.closed) return;
    for (const topic of this.raw.subscriptions) this.raw.unsubscribe(topic);
    this.closed = true;
    clearTimeout(this.authTimer);
    this.raw.terminate();
  }

  fail(code: ErrorCode, message: string, closeCode: number): void {
    this.send({ type: "error", code, message });
    this.close(closeCode, code.toLowerCase());
  }

  private error(code: ErrorCode, message: string, extra: Partial<ErrorFrame> = {}): void {
    this.send({ type: "error", code, message, ...extra });
  }

  // ------------------------------------------------------------ client frames

  async onMessage(message: string | Buffer): Promise<void> {
    if (this.closed) return;
    if (this.actorValue) this.hub.noteAlive(this);
    const retryAfterMs = takeToken(this.bucket, this.hub.options.frameRate, this.hub.now());
    if (retryAfterMs > 0) return this.error("RATE_LIMITED", "Too many frames. Slow down.", { retryAfterMs });
    const limit = this.hub.options.maxFrameBytes ?? MAX_FRAME_BYTES;
    // Characters never outnumber UTF-8 bytes, so counting bytes is only needed near the limit.
    const size = typeof message === "string" ? (message.length * 3 <= limit ? message.length : Buffer.byteLength(message)) : message.byteLength;
    if (size > limit) return this.error("FRAME_TOO_LARGE", `Frames are limited to ${limit} bytes.`);
    if (typeof message !== "string") {
      if (!this.actorValue) return this.failAuthRequired();
      return this.error("INVALID_FRAME", "Binary frames are not accepted; send JSON text.");
    }
    const parsed = parseClientFrame(message);
    if (!parsed.ok) {
      if (!this.actorValue) return this.failAuthRequired();
      const { ok: _ok, ...problem } = parsed;
      return this.error(problem.code, problem.message, { field: problem.field, ref: problem.ref });
    }
    noteFrameReceived(parsed.frame.type);
    try {
      await this.dispatch(parsed.frame);
    } catch (thrown) {
      // A database outage is the same 503 DATABASE_UNAVAILABLE as over HTTP (retryAfterMs set).
      const error = isDatabaseUnavailable(thrown) ? new DatabaseUnavailableError(DATABASE_RETRY_AFTER_SECS) : thrown;
      if (error instanceof AppError) {
        // Expected outcomes of a feature's handler: the same code and message as over HTTP.
        const field = error.details?.fields ? Object.keys(error.details.fields)[0] : undefined;
        const retryAfterMs = error.details?.retryAfterSecs !== undefined ? error.details.retryAfterSecs * 1000 : undefined;
        return this.error(error.code as ErrorCode, error.publicMessage, { ref: parsed.frame.ref, field, retryAfterMs });
      }
      this.hub.log.error("ws.frame_failed", { type: parsed.frame.type, error: error instanceof Error ? error : String(error) });
      this.error("INTERNAL_ERROR", "Something went wrong handling that frame.", { ref: parsed.frame.ref });
    }
  }

  private failAuthRequired(): void {
    this.fail("AUTH_REQUIRED", "The first frame must be auth.", CLOSE.AUTH_REQUIRED);
  }

  private async dispatch(frame: ClientFrame): Promise<void> {
    if (!this.actorValue) {
      if (frame.type !== "auth") return this.failAuthRequired();
      return this.authenticateWith(frame.token);
    }
    const handler = this.hub.frameHandler(frame.type);
    if (handler) {
      const answer = await handler({ actor: this.actorValue, frame, socket: this });
      if (answer && !this.closed) this.send(answer);
      return;
    }
    switch (frame.type) {
      case "ping":
        return this.send({ type: "pong", ref: frame.ref, ts: frame.ts, serverTime: this.hub.now() });
      case "auth":
        return this.error("ALREADY_AUTHENTICATED", "This connection is already authenticated.", { ref: frame.ref });
      case "subscribe":
        return this.subscribeChannels(frame);
      case "unsubscribe":
        return this.unsubscribeChannels(frame);
      case "typing:start":
      case "typing:stop":
        return this.relayTyping(frame);
    }
  }

  private async authenticateWith(token: string): Promise<void> {
    if (this.authenticating) return; // a second auth frame while the first is being checked
    this.authenticating = true;
    const startedMs = this.hub.now();
    let actor: HubActor | null = null;
    let unavailable = false;
    try {
      actor = await this.authenticate(token);
    } catch (error) {
      unavailable = isDatabaseUnavailable(error);
    }
    clearTimeout(this.authTimer);
    if (this.closed) return;
    // The token may be fine: say so, and close with "try again later" (the client reconnects).
    if (unavailable) return this.fail("DATABASE_UNAVAILABLE", new DatabaseUnavailableError(DATABASE_RETRY_AFTER_SECS).publicMessage, CLOSE.TRY_AGAIN_LATER);
    if (!actor) return this.fail("UNAUTHENTICATED", "The access token is invalid or expired, or its session has ended.", CLOSE.UNAUTHENTICATED);
    await this.admit(actor, startedMs);
  }

  private async subscribeChannels(frame: SubscribeFrame): Promise<void> {
    const actor = this.actor;
    const wanted = [...new Set(frame.channelIds)].filter((id) => !this.raw.isSubscribed(channelTopic(id)));
    const channelCount = this.raw.subscriptions.filter((t) => t.startsWith("channel:")).length;
    if (channelCount + wanted.length > MAX_CHANNELS_PER_SOCKET) {
      return this.error("TOO_MANY_SUBSCRIPTIONS", `A connection may follow at most ${MAX_CHANNELS_PER_SOCKET} channels.`, { ref: frame.ref, field: "channelIds" });
    }
    let allowed: string[] = [];
    let verdicts: SubscribeVerdict[] = [];
    // A kick that lands while we ask the permission hook must win: re-ask until no kick straddles.
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = this.hub.membershipGeneration(actor.userId);
      // A failing check refuses, except an unreachable database: that is a 503 for the whole frame.
      verdicts = await Promise.all(
        wanted.map((id) =>
          Promise.resolve(this.hub.authorizeSubscribe(actor, channelTopic(id))).catch((error: unknown): SubscribeVerdict => {
            if (isDatabaseUnavailable(error)) throw error;
            return false;
          }),
        ),
      );
      allowed = wanted.filter((_, i) => verdicts[i] === true);
      if (generation === this.hub.membershipGeneration(actor.userId)) break;
      if (attempt === 2) allowed = [];
    }
    if (this.closed) return;
    for (const id of allowed) this.raw.subscribe(channelTopic(id));
    // Refusals with their own code (TIMED_OUT …) first, one error frame per code; the rest read
    // as not found: "exists but not yours" looks exactly like "does not exist".
    const refusals = new Map<string, { refusal: SubscribeRefusal; channelIds: string[] }>();
    const denied: string[] = [];
    wanted.forEach((id, i) => {
      if (allowed.includes(id)) return;
      const verdict = verdicts[i];
      if (typeof verdict !== "object") return void denied.push(id);
      const entry = refusals.get(verdict.code) ?? { refusal: verdict, channelIds: [] };
      entry.channelIds.push(id);
      refusals.set(verdict.code, entry);
    });
    const already = frame.channelIds.filter((id) => !wanted.includes(id));
    for (const { refusal, channelIds } of refusals.values()) {
      this.error(refusal.code, refusal.message, { ref: frame.ref, field: "channelIds", channelIds, ...(refusal.until ? { until: refusal.until } : {}) });
    }
    if (denied.length > 0) this.error("CHANNEL_NOT_FOUND", "Some channels do not exist or you are not a member.", { ref: frame.ref, field: "channelIds", channelIds: denied });
    this.send({ type: "subscribed", channelIds: [...new Set([...already, ...allowed])], ref: frame.ref });
  }

  private unsubscribeChannels(frame: SubscribeFrame): void {
    for (const id of frame.channelIds) this.raw.unsubscribe(channelTopic(id));
    this.send({ type: "unsubscribed", channelIds: frame.channelIds, ref: frame.ref });
  }

  /**
   * Typing is ephemeral (never stored), so the hub relays it itself, only into channels this
   * socket was authorised for. Auto-stop and per-user aggregation belong to the messaging issue.
   */
  private relayTyping(frame: TypingFrame): void {
    const topic = channelTopic(frame.channelId);
    if (!this.raw.isSubscribed(topic)) return this.error("CHANNEL_NOT_FOUND", "You are not following that channel.", { ref: frame.ref, field: "channelId" });
    const now = this.hub.now();
    if (frame.type === "typing:start") {
      if (now - this.lastTypingMs < TYPING_INTERVAL_MS) return; // silently coalesced
      this.lastTypingMs = now;
    } else {
      this.lastTypingMs = 0;
    }
    this.hub.publish(topic, { type: frame.type === "typing:start" ? "typing:started" : "typing:stopped", channelId: frame.channelId, userId: this.actor.userId });
  }
}
