/**
 * HTTP/1.1 over a raw socket, for body tests that fetch() cannot express: a declared
 * Content-Length whose body arrives slowly or never, a chunked body generated on the fly (a
 * 100 MB upload without allocating 100 MB), a chosen source address (127.0.0.2 is another client),
 * an abort in the middle of a body. Loopback only.
 */
import net from "node:net";

export type RawResponse = { status: number; headers: Record<string, string>; body: string };

export type RawRequest = {
  /** Writes body bytes (chunk-framed when the request is chunked); resolves when the socket can take more. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends a chunked body (a declared one ends by its length). */
  end(): void;
  /** Cuts the connection, as a client that gives up mid-body. */
  abort(): void;
  /** The response, or null if the connection closed without one. */
  response: Promise<RawResponse | null>;
  /** True once a response head arrived (writers stop then, as real clients do). */
  answered(): boolean;
};

export function openRawRequest(
  baseUrl: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; contentLength?: number; localAddress?: string },
): RawRequest {
  const url = new URL(baseUrl);
  const chunked = opts.contentLength === undefined;
  const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress: opts.localAddress });
  socket.on("error", () => {});
  const head = [`${opts.method ?? "POST"} ${opts.path} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(opts.headers ?? {})) head.push(`${name}: ${value}`);
  head.push(chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${opts.contentLength}`);
  socket.write(head.join("\r\n") + "\r\n\r\n");

  let raw: Buffer = Buffer.alloc(0);
  let parsed: RawResponse | null = null;
  const response = new Promise<RawResponse | null>((resolve) => {
    const tryParse = (final: boolean) => {
      const end = raw.indexOf("\r\n\r\n");
      if (end === -1) return final ? resolve(null) : undefined;
      const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const status = Number(lines[0]!.split(" ")[1]);
      const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
      const body = raw.subarray(end + 4);
      parsed ??= { status, headers, body: "" };
      if (length !== undefined && body.length >= length) {
        parsed.body = body.subarray(0, length).toString();
        resolve(parsed);
        socket.destroy();
      } else if (final) {
        parsed.body = body.toString();
        resolve(parsed);
      }
    };
    socket.on("data", (data: Buffer) => {
      raw = Buffer.concat([raw, data]);
      tryParse(false);
    });
    socket.on("close", () => tryParse(true));
  });

  const writeRaw = (data: Uint8Array | string) =>
    new Promise<void>((resolve) => {
      if (socket.destroyed || socket.write(data)) return resolve();
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  return {
    write: (bytes) => (chunked ? writeRaw(Buffer.concat([Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, Buffer.from("\r\n")])) : writeRaw(bytes)),
    end: () => void (chunked && !socket.destroyed && socket.write("0\r\n\r\n")),
    abort: () => socket.destroy(),
    response,
    answered: () => parsed !== null,
  };
}

const FILLER = new Uint8Array(256 * 1024).fill(0x61);

/**
 * The body a generated request sends: valid for its content type (a JSON object with one long
 * string, a form with one long field), so a server that reads it also parses all of it.
 */
function framingOf(contentType: string | undefined): { head: Uint8Array; tail: Uint8Array } {
  const enc = (s: string) => new TextEncoder().encode(s);
  if (contentType?.includes("json")) return { head: enc('{"filler":"'), tail: enc('"}') };
  if (contentType?.includes("form-urlencoded")) return { head: enc("filler="), tail: enc("") };
  return { head: enc(""), tail: enc("") };
}

/**
 * Sends `bytes` of body (generated, never allocated whole) until the server answers or the body is
 * done; then waits for the response. Returns the response and how much was sent.
 */
export async function sendGeneratedBody(
  baseUrl: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; bytes: number; chunked: boolean; localAddress?: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<{ response: RawResponse | null; sent: number }> {
  const request = openRawRequest(baseUrl, { ...opts, contentLength: opts.chunked ? undefined : opts.bytes });
  const timer = setTimeout(() => request.abort(), opts.timeoutMs ?? 120_000);
  opts.signal?.addEventListener("abort", () => request.abort());
  const { head, tail } = framingOf(opts.headers?.["content-type"]);
  const framed = opts.bytes >= head.byteLength + tail.byteLength;
  let sent = 0;
  if (framed && head.byteLength > 0) {
    await request.write(head);
    sent += head.byteLength;
  }
  const fillTo = framed ? opts.bytes - tail.byteLength : opts.bytes;
  while (sent < fillTo && !request.answered() && !opts.signal?.aborted) {
    const n = Math.min(FILLER.byteLength, fillTo - sent);
    await request.write(n === FILLER.byteLength ? FILLER : FILLER.subarray(0, n));
    sent += n;
  }
  if (framed && tail.byteLength > 0 && !request.answered()) {
    await request.write(tail);
    sent += tail.byteLength;
  }
  if (!request.answered()) request.end();
  const response = await request.response;
  clearTimeout(timer);
  request.abort();
  return { response, sent };
}

/** The resident set size of a process, from /proc (Linux), in bytes. */
export async function residentBytesOf(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) * 1024;
}
