/**
 * Runs Hearth as a real process (`bun src/main.ts` or the README's start line) and waits for it.
 * The server is started on port 0; its "server.listening" log line tells the real port.
 *
 * Each one runs in its own process group (a new session): the README's start line is a shell
 * running `bun start`, which runs the build and then the server, and a signal to the shell alone
 * leaves the server running after the test. stop() signals the whole group and waits until every
 * member is gone; groups a test did not stop are killed when the test process exits.
 */
import type { Subprocess } from "bun";
import { resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "../..");

/** Process groups started here and not yet seen empty. */
const liveGroups = new Set<number>();
process.once("exit", () => {
  for (const group of liveGroups) signalGroup(group, "SIGKILL");
});

/** Signals every process of the group; false when the group has no process left. */
export function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves once no process of the group is left. */
export async function stopGroup(group: number, graceMs = 10_000): Promise<void> {
  signalGroup(group, "SIGTERM");
  const killAt = Date.now() + graceMs;
  let killedAt: number | undefined;
  while (signalGroup(group, 0)) {
    if (killedAt === undefined && Date.now() > killAt) {
      signalGroup(group, "SIGKILL");
      killedAt = Date.now();
    }
    // Bounded: after SIGKILL a group empties as soon as its members are reaped.
    if (killedAt !== undefined && Date.now() - killedAt > 30_000) throw new Error(`process group ${group} survived SIGKILL for 30 s`);
    await Bun.sleep(20);
  }
  liveGroups.delete(group);
}

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
  // HEARTH_TEST_RUN marks what a CI run started (.ci/run finds leftovers by it); Hearth never reads it.
  for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, HEARTH_TEST_RUN: process.env.HEARTH_TEST_RUN, ...opts.env })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn(opts.cmd ?? ["bun", "src/main.ts"], { cwd: opts.cwd ?? REPO_ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  liveGroups.add(proc.pid);
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
    /** Stops the whole process group; resolves with the first process's exit code. */
    async stop() {
      await stopGroup(proc.pid);
      return exited;
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
