/**
 * A WebSocket client over a raw TCP socket (Bun.connect), for what a browser or Bun's WebSocket
 * cannot do: vanish without a close frame. It performs the HTTP upgrade itself, decodes the
 * server's text frames (queued, read with a bounded wait), and by default never answers the
 * server's protocol pings, like a peer whose network went away. Two ways to die:
 *   - `destroy()`: the TCP connection is torn down with no WebSocket close frame (FIN);
 *   - `goSilent()` (the default behaviour): the connection stays open but nothing is ever
 *     answered, as behind a NAT that dropped the flow or a laptop that went to sleep.
 */
import type { Socket } from "bun";

export type RawFrame = { type: string } & Record<string, unknown>;

export type RawSocket = {
  /** Text frames received so far, parsed. */
  frames: RawFrame[];
  /** Protocol pings received (opcode 0x9). */
  pings(): number;
  /** Resolves when the upgrade answered 101; rejects with the status line otherwise. */
  upgraded: Promise<void>;
  /** Whether the server closed the TCP connection (or sent a close frame). */
  isClosed(): boolean;
  /** Waits for a text frame of this type (bounded). */
  nextOfType(type: string, timeoutMs?: number): Promise<RawFrame>;
  /** Sends a masked text frame. */
  sendText(text: string): void;
  /** Tears the TCP connection down without a WebSocket close frame. */
  destroy(): void;
};

export async function openRawSocket(wsUrl: string, headers: Record<string, string> = {}): Promise<RawSocket> {
  const url = new URL(wsUrl);
  const frames: RawFrame[] = [];
  let pings = 0;
  let closed = false;
  let buffer = new Uint8Array(0);
  let upgradedFlag = false;
  let resolveUpgrade!: () => void;
  let rejectUpgrade!: (error: Error) => void;
  const upgraded = new Promise<void>((resolve, reject) => {
    resolveUpgrade = resolve;
    rejectUpgrade = reject;
  });
  const append = (chunk: Uint8Array) => {
    const next = new Uint8Array(buffer.length + chunk.length);
    next.set(buffer);
    next.set(chunk, buffer.length);
    buffer = next;
  };
  const parseFrames = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = (buffer[2]! << 8) | buffer[3]!;
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(new DataView(buffer.buffer, buffer.byteOffset + 2, 8).getBigUint64(0));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      const payload = buffer.slice(offset, offset + length);
      buffer = buffer.slice(offset + length);
      if (opcode === 0x1) frames.push(JSON.parse(new TextDecoder().decode(payload)) as RawFrame);
      else if (opcode === 0x9) pings++;
      else if (opcode === 0x8) closed = true;
    }
  };
  const socket: Socket<undefined> = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_socket, chunk) {
        append(new Uint8Array(chunk));
        if (!upgradedFlag) {
          const text = new TextDecoder().decode(buffer);
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) return;
          const statusLine = text.slice(0, text.indexOf("\r\n"));
          if (!/^HTTP\/1\.1 101/.test(statusLine)) return rejectUpgrade(new Error(statusLine));
          upgradedFlag = true;
          buffer = buffer.slice(new TextEncoder().encode(text.slice(0, end + 4)).length);
          resolveUpgrade();
        }
        parseFrames();
      },
      close() {
        closed = true;
        if (!upgradedFlag) rejectUpgrade(new Error("closed before the upgrade"));
      },
      error() {
        closed = true;
      },
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const lines = [`GET ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.write(lines.join("\r\n") + "\r\n\r\n");

  return {
    frames,
    pings: () => pings,
    upgraded,
    isClosed: () => closed,
    async nextOfType(type, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      let seen = 0;
      for (;;) {
        for (; seen < frames.length; seen++) if (frames[seen]!.type === type) return frames.splice(seen, 1)[0]!;
        if (Date.now() > deadline) throw new Error(`no ${type} frame within ${timeoutMs} ms (got ${JSON.stringify(frames)})`);
        await Bun.sleep(5);
      }
    },
    sendText(text) {
      const payload = new TextEncoder().encode(text);
      const mask = crypto.getRandomValues(new Uint8Array(4));
      const header = payload.length < 126 ? [0x81, 0x80 | payload.length] : [0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
      const frame = new Uint8Array(header.length + 4 + payload.length);
      frame.set(header);
      frame.set(mask, header.length);
      for (let i = 0; i < payload.length; i++) frame[header.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
      socket.write(frame);
    },
    destroy() {
      socket.terminate();
    },
  };
}
