/**
 * Runs Hearth as a real process (`bun src/main.ts` or the README's start line) and waits for it.
 * The server is started on port 0; its "server.listening" log line tells the real port.
 */
import type { Subprocess } from "bun";
import { resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "../..");

export type HearthProcess = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** Resolves with the base URL once the server logs that it listens; rejects if it exits first. */
  ready(timeoutMs?: number): Promise<string>;
  exited: Promise<number>;
  stop(): Promise<number>;
};

export function spawnHearth(opts: { cwd?: string; env: Record<string, string | undefined>; cmd?: string[] }): HearthProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn(opts.cmd ?? ["bun", "src/main.ts"], { cwd: opts.cwd ?? REPO_ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const listeners: (() => void)[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out += decoder.decode(value, { stream: true });
      for (const l of listeners) l();
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const exited = proc.exited;
  return {
    proc,
    output: () => out,
    exited,
    ready(timeoutMs = 60_000) {
      return new Promise<string>((resolveUrl, reject) => {
        const check = () => {
          const m = /"msg":"server\.listening"[^\n]*"address":"([^"]+)"/.exec(out);
          if (m) {
            const [host, port] = [m[1]!.slice(0, m[1]!.lastIndexOf(":")), m[1]!.slice(m[1]!.lastIndexOf(":") + 1)];
            resolveUrl(`http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`);
            return true;
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`Hearth did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        listeners.push(() => {
          if (check()) clearTimeout(timer);
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`Hearth exited with ${code} before listening:\n${out}`));
        });
      });
    },
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `predicate` holds or the bound is reached; returns the last value. */
export async function pollUntil<T>(fn: () => Promise<T>, predicate: (value: T) => boolean, { attempts = 60, intervalMs = 500 } = {}): Promise<T> {
  let last = await fn();
  for (let i = 0; i < attempts && !predicate(last); i++) {
    await Bun.sleep(intervalMs);
    last = await fn();
  }
  return last;
}
