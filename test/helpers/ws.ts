/**
 * Real WebSocket clients for hub tests: every received frame is queued, so a test reads them in
 * order with a bounded wait (nextFrame) instead of sleeping, and close events are captured.
 * The bounds are wide (15 s): they only matter when a frame never comes, and a loaded CI machine
 * must not turn a slow frame into a failure.
 */

const FRAME_WAIT_MS = 15_000;
import type { TestContext } from "./app.ts";

export type Frame = { type: string } & Record<string, unknown>;

export type TestSocket = {
  ws: WebSocket;
  /** Every frame received so far, in order (consumed or not). */
  received: Frame[];
  opened: Promise<boolean>;
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
  send(frame: unknown): void;
  sendRaw(data: string | Uint8Array): void;
  /** The next unread frame, or throws after timeoutMs. */
  nextFrame(timeoutMs?: number): Promise<Frame>;
  /** Reads frames until one has this type (others are skipped); throws after timeoutMs. */
  nextOfType(type: string, timeoutMs?: number): Promise<Frame>;
  /**
   * A ping answered: every frame the server sent this socket before handling the ping has
   * arrived (one socket delivers in order). Reads nothing: nextFrame still sees every frame.
   */
  roundTrip(timeoutMs?: number): Promise<void>;
  close(): void;
};

export async function listen(ctx: TestContext): Promise<{ http: string; ws: string }> {
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  const port = ctx.app.server!.port;
  return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws` };
}

export function openSocket(url: string, headers: Record<string, string> = {}): TestSocket {
  const ws = new WebSocket(url, { headers } as unknown as string[]);
  const received: Frame[] = [];
  let readIndex = 0;
  let waiter: (() => void) | undefined;
  let closedFlag = false;
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      closedFlag = true;
      resolve({ code: event.code, reason: event.reason });
      waiter?.();
    });
  });
  ws.addEventListener("message", (event) => {
    received.push(JSON.parse(String(event.data)) as Frame);
    waiter?.();
  });
  /** Waits (bounded) until `ready()` holds, woken by each frame and by the close. */
  const waitUntil = async (ready: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (closedFlag) throw new Error(`socket closed while waiting for ${what} (received: ${JSON.stringify(received)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms (received: ${JSON.stringify(received)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiter = undefined;
    }
  };
  const nextFrame = async (timeoutMs = FRAME_WAIT_MS): Promise<Frame> => {
    await waitUntil(() => readIndex < received.length, timeoutMs, "frame");
    return received[readIndex++]!;
  };
  let pings = 0;
  return {
    ws,
    received,
    opened,
    closed,
    isClosed: () => closedFlag,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendRaw: (data) => ws.send(data),
    nextFrame,
    async roundTrip(timeoutMs = FRAME_WAIT_MS) {
      const ref = `round-trip-${++pings}`;
      ws.send(JSON.stringify({ type: "ping", ref }));
      await waitUntil(() => received.some((f) => f.type === "pong" && f.ref === ref), timeoutMs, `pong ${ref}`);
    },
    async nextOfType(type, timeoutMs = FRAME_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = await nextFrame(Math.max(1, deadline - Date.now()));
        if (frame.type === type) return frame;
      }
    },
    close: () => {
      if (!closedFlag) ws.close();
    },
  };
}

/** Cookie headers for a same-origin browser socket to `base` (http://127.0.0.1:port). */
export function browserHeaders(base: string, tokens: { accessToken: string; refreshToken: string }): Record<string, string> {
  return { cookie: `hearth_access=${tokens.accessToken}; hearth_refresh=${tokens.refreshToken}`, origin: base };
}

/** Opens a socket, checks it is admitted, and consumes the hello frame. */
export async function connectAuthed(url: string, headers: Record<string, string>): Promise<TestSocket> {
  const socket = openSocket(url, headers);
  const hello = await socket.nextFrame();
  if (hello.type !== "hello") throw new Error(`expected hello, got ${JSON.stringify(hello)}`);
  return socket;
}

/** Opens a socket as an API client: first-frame auth with a Bearer token. */
export async function connectWithToken(url: string, accessToken: string): Promise<TestSocket> {
  const socket = openSocket(url);
  await socket.opened;
  socket.send({ type: "auth", token: accessToken });
  const hello = await socket.nextFrame();
  if (hello.type !== "hello") throw new Error(`expected hello, got ${JSON.stringify(hello)}`);
  return socket;
}
