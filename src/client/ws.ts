/**
 * The browser's (and API clients') side of /ws: connect, authenticate (cookie, or a first `auth`
 * frame when a token source is given), heartbeat, reconnect with jittered exponential backoff,
 * and re-subscribe the followed channels after every reconnect. Events are handed to `onEvent`;
 * `onReconnected` tells the app to fetch over HTTP what it missed while disconnected (delivery
 * over the socket is at most once).
 *
 * A session that ended (4409), a protocol mistake (4400) or an oversized frame (1009) are not
 * retried: reconnecting would fail the same way, in a loop. Too many sockets (4429) is retried
 * with the same backoff: the server already dropped the user's dead sockets before refusing, so
 * a slot opens when another tab or device closes (and the user may close one meanwhile).
 */
import { CLOSE, HEARTBEAT_INTERVAL_MS, MAX_CHANNELS_PER_FRAME, parseServerFrame, type ClientFrame, type ErrorFrame, type EventFrame, type HelloFrame } from "../shared/protocol.ts";

export type HubClientState = "connecting" | "open" | "reconnecting" | "ended";

export type HubClientOptions = {
  /** Defaults to ws(s)://<this host>/ws. */
  url?: string;
  /** API clients: returns a (fresh) access token for the `auth` frame. Browsers omit it (cookie). */
  token?: () => Promise<string | null>;
  onEvent(frame: EventFrame): void;
  onError?(frame: ErrorFrame): void;
  /** `reconnecting` carries the close code that caused it and the delay before the next attempt. */
  onState?(state: HubClientState, detail?: { code?: number; hello?: HelloFrame; delayMs?: number }): void;
  /** After a reconnect (not the first connect), once the channels are followed again: fetch what was missed. */
  onReconnected?(): void;
  /**
   * Runs before each reconnect attempt. Browsers refresh the session cookie here (an expired
   * access cookie makes the upgrade fail with 401, which a WebSocket only sees as 1006).
   */
  beforeReconnect?(): Promise<void>;
  createSocket?: (url: string) => WebSocket;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
};

const RESUBSCRIBE_REF = "resubscribe";
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE.SESSION_ENDED, CLOSE.AUTH_REQUIRED, CLOSE.TOO_BIG]);

export class HubClient {
  private socket: WebSocket | undefined;
  private readonly channels = new Set<string>();
  private attempt = 0;
  private everOpened = false;
  private stopped = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private unansweredPings = 0;
  private authenticated = false;
  /** Re-subscribe frames still unanswered after a reconnect; onReconnected waits for them. */
  private pendingResubscribes = 0;
  private reconnectPending = false;

  constructor(private readonly options: HubClientOptions) {}

  get isOpen(): boolean {
    return this.authenticated;
  }

  connect(): void {
    this.stopped = false;
    this.open();
  }

  /** Closes for good (sign-out, page unload). */
  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.socket?.close(CLOSE.NORMAL);
  }

  /**
   * While waiting to reconnect, try now: the network came back (`online`) or the person looked at
   * the tab again. The backoff grows to 30 s, which is right for a server that is down and wrong
   * for a phone that just left a tunnel. Does nothing while connected or after close().
   */
  retryNow(): void {
    if (this.stopped || this.socket || this.reconnectTimer === undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.reconnect();
  }

  /** Follows channels now and after every reconnect. */
  subscribe(channelIds: string[]): void {
    const added = channelIds.filter((id) => !this.channels.has(id));
    for (const id of added) this.channels.add(id);
    if (this.authenticated) this.sendChunked("subscribe", added);
  }

  /**
   * Follows again channels the server took away (`subscription:revoked`, e.g. a timeout that
   * ended) and that this client still wants; they stay in the set, so reconnects keep them too.
   */
  refollow(channelIds: string[]): void {
    const wanted = channelIds.filter((id) => this.channels.has(id));
    if (this.authenticated && wanted.length) this.sendChunked("subscribe", wanted);
  }

  unsubscribe(channelIds: string[]): void {
    const removed = channelIds.filter((id) => this.channels.delete(id));
    if (this.authenticated) this.sendChunked("unsubscribe", removed);
  }

  /** Sends a frame if connected; returns false when it could not (the caller queues or retries). */
  send(frame: ClientFrame): boolean {
    if (!this.authenticated || this.socket?.readyState !== 1) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private sendChunked(type: "subscribe" | "unsubscribe", ids: string[], ref?: string): number {
    let frames = 0;
    for (let i = 0; i < ids.length; i += MAX_CHANNELS_PER_FRAME, frames++) this.send({ type, channelIds: ids.slice(i, i + MAX_CHANNELS_PER_FRAME), ref });
    return frames;
  }

  private defaultUrl(): string {
    const { protocol, host } = globalThis.location;
    return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/ws`;
  }

  private open(): void {
    this.options.onState?.(this.everOpened ? "reconnecting" : "connecting");
    const url = this.options.url ?? this.defaultUrl();
    const socket = this.options.createSocket ? this.options.createSocket(url) : new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      if (!this.options.token) return; // cookie: the server sends hello by itself
      this.options.token().then(
        (token) => {
          if (socket !== this.socket) return;
          if (token) socket.send(JSON.stringify({ type: "auth", token }));
          else socket.close(CLOSE.NORMAL);
        },
        () => socket.close(CLOSE.NORMAL),
      );
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => this.closed(socket, event.code);
  }

  private receive(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    switch (frame.type) {
      case "hello":
        return this.welcomed(frame as HelloFrame);
      case "pong":
        this.unansweredPings = 0;
        return;
      case "error":
        this.options.onError?.(frame as ErrorFrame);
        return;
      case "subscribed":
        if ((frame as { ref?: string }).ref === RESUBSCRIBE_REF && --this.pendingResubscribes === 0) this.resubscribed();
        return;
      case "unsubscribed":
        return;
      default:
        this.options.onEvent(frame as EventFrame);
    }
  }

  private welcomed(hello: HelloFrame): void {
    this.reconnectPending = this.everOpened;
    this.authenticated = true;
    this.everOpened = true;
    this.attempt = 0;
    this.pendingResubscribes = this.sendChunked("subscribe", [...this.channels], RESUBSCRIBE_REF);
    this.startHeartbeat(hello.heartbeatIntervalMs || HEARTBEAT_INTERVAL_MS);
    this.options.onState?.("open", { hello });
    if (this.pendingResubscribes === 0) this.resubscribed();
  }

  /**
   * Only once the channels are followed again may the app fetch what it missed: anything
   * published from now on arrives live, anything before is in the HTTP answer. Fetching earlier
   * would leave a gap.
   */
  private resubscribed(): void {
    if (!this.reconnectPending) return;
    this.reconnectPending = false;
    this.options.onReconnected?.();
  }

  /** Two pings without a pong: the connection is dead even if the browser has not noticed. */
  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.unansweredPings = 0;
    this.heartbeat = setInterval(() => {
      if (this.unansweredPings >= 2) {
        this.socket?.close(CLOSE.NORMAL, "heartbeat_timeout");
        this.closed(this.socket, 1006);
        return;
      }
      this.unansweredPings++;
      this.send({ type: "ping", ts: Date.now() });
    }, intervalMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private closed(socket: WebSocket | undefined, code: number): void {
    if (socket !== this.socket) return; // an old socket's late close event
    this.socket = undefined;
    this.authenticated = false;
    this.stopHeartbeat();
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.stopped = true;
      this.options.onState?.("ended", { code });
      return;
    }
    const base = this.options.backoffBaseMs ?? 1_000;
    const max = this.options.backoffMaxMs ?? 30_000;
    const delay = Math.min(max, base * 2 ** this.attempt) * (0.5 + (this.options.random ?? Math.random)() / 2);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.options.onState?.("reconnecting", { code, delayMs: delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.reconnect();
    }, delay);
  }

  private reconnect(): void {
    const ready = this.options.beforeReconnect?.().catch(() => {}) ?? Promise.resolve();
    void ready.then(() => {
      if (!this.stopped && !this.socket) this.open();
    });
  }
}
