/**
 * An S3-compatible server on loopback for a test file: s3rver in a child process with its own
 * temporary data directory, a random key pair and one bucket. `startS3rver` returns undefined and
 * prints the reason when it cannot start (the caller skips its S3 tests); `stop` ends the process
 * and removes the directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileStorage } from "../../src/config.ts";

export type FinishedRequest = { at: number; text: string };

export type TestS3 = {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the objects on disk (for scans that must see every stored byte). */
  directory: string;
  /**
   * Every request the server finished before this call, in order: `text` is "<status> <method>
   * <url>", `at` the epoch time in ms (performance.timeOrigin + performance.now() in the server).
   * The lines come through a pipe and may lag the responses, so this sends a marker request and
   * waits for its line.
   */
  finishedRequests(): Promise<FinishedRequest[]>;
  /** A FileStorage for this server under `prefix` ("" or ending with "/"). */
  storage(prefix?: string): Extract<FileStorage, { kind: "s3" }>;
  /** The same as environment variables for loadConfig / a Hearth process. */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
};

const random = () => Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("hex");

export async function startS3rver(opts: { startTimeoutMs?: number } = {}): Promise<TestS3 | undefined> {
  const directory = mkdtempSync(join(tmpdir(), "hearth-s3rver-"));
  const accessKeyId = `test-${random()}`;
  const secretAccessKey = random();
  const bucket = "hearth-test";
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "s3rver-main.ts"), directory, accessKeyId, secretAccessKey, bucket], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stop = async () => {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await proc.exited;
    clearTimeout(timer);
    rmSync(directory, { recursive: true, force: true });
  };
  const port = await readPort(proc.stdout, opts.startTimeoutMs ?? 30_000).catch((error: Error) => error);
  if (port instanceof Error) {
    const stderr = await Promise.race([new Response(proc.stderr).text(), Bun.sleep(1000).then(() => "")]);
    await stop();
    console.warn(`[skip] S3 blob store tests: s3rver did not start (${port.message}) ${stderr.slice(0, 500)}`);
    return undefined;
  }
  const requests: FinishedRequest[] = [];
  const waiters: (() => void)[] = [];
  void pumpRequests(port.rest, proc.stdout, requests, () => waiters.splice(0).forEach((wake) => wake()));
  const endpoint = `http://127.0.0.1:${port.port}`;
  const storage = (prefix = "") => ({ kind: "s3" as const, bucket, prefix, endpoint, region: "us-east-1", accessKeyId, secretAccessKey });
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    directory,
    async finishedRequests() {
      const marker = `/__settle-${random()}`;
      await fetch(`${endpoint}${marker}`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.arrayBuffer());
      const deadline = Date.now() + 30_000;
      while (!requests.some((r) => r.text.includes(marker))) {
        if (Date.now() > deadline) throw new Error("s3rver did not report the marker request");
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 1000);
        });
      }
      return requests.filter((r) => !r.text.includes("/__settle-"));
    },
    storage,
    env: (prefix = "") => ({
      FILE_STORAGE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ""}`,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: accessKeyId,
      S3_SECRET_ACCESS_KEY: secretAccessKey,
    }),
    stop,
  };
}

/** The first stdout line is {"port": N}; rejects when the process exits or the bound passes first. */
async function readPort(stdout: ReadableStream<Uint8Array>, timeoutMs: number): Promise<{ port: number; rest: string }> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Bun.sleep(timeoutMs).then(() => "timeout" as const);
  try {
    while (!text.includes("\n")) {
      const result = await Promise.race([reader.read(), deadline]);
      if (result === "timeout") throw new Error(`no port within ${timeoutMs} ms`);
      if (result.done) throw new Error("exited before listening");
      text += decoder.decode(result.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  const port = (JSON.parse(text.slice(0, text.indexOf("\n"))) as { port?: unknown }).port;
  if (typeof port !== "number") throw new Error(`unexpected first line ${JSON.stringify(text)}`);
  return { port, rest: text.slice(text.indexOf("\n") + 1) };
}

async function pumpRequests(rest: string, stdout: ReadableStream<Uint8Array>, into: FinishedRequest[], onLine: () => void): Promise<void> {
  const decoder = new TextDecoder();
  let text = rest;
  const take = () => {
    let newline;
    while ((newline = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, newline);
      text = text.slice(newline + 1);
      const match = /^REQ (\S+) (.*)$/.exec(line);
      if (match) into.push({ at: Number(match[1]), text: match[2]! });
    }
    onLine();
  };
  take();
  for await (const chunk of stdout as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    take();
  }
}
