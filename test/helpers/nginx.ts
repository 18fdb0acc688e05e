/**
 * nginx on loopback in front of a Hearth listening on `upstreamPort`, configured with the TLS
 * server block docs/operations.md tells operators to copy — rewritten only for loopback ports,
 * temporary paths and a throwaway certificate (as test/ops/proxy-client-ip.test.ts does), so a
 * changed doc is what gets tested. nginx runs in its own process group: `kill()` SIGKILLs master
 * and workers at once (a proxy that dies, connections cut), `start()` brings it back on the same
 * port. `haveNginx` is false when nginx is not installed (callers skip with a printed reason).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { REPO_ROOT, signalGroup, stopGroup } from "./process.ts";

export const haveNginx = Bun.which("nginx") !== null;

/** nginx process groups not stopped yet: killed when the test process exits, whatever happened. */
const live = new Set<number>();
process.once("exit", () => {
  for (const group of live) signalGroup(group, "SIGKILL");
});

export type TestNginx = {
  /** https://127.0.0.1:<port> (self-signed: fetch with `tls: { rejectUnauthorized: false }`, see `insecureFetch`). */
  url: string;
  start(): Promise<void>;
  /** SIGKILL to master and workers: every connection through the proxy breaks at once. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  errorLog(): string;
  /** One line per finished request: "<method> <uri> <status> <bytes sent to Hearth, headers included>". */
  accessLog(): string[];
};

/** fetch for the proxy's self-signed certificate. */
export const insecureFetch = ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, tls: { rejectUnauthorized: false } } as RequestInit)) as typeof fetch;

function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** The documented main server block (TLS, `location /` and `location /ws`). */
export function documentedNginxBlock(): string {
  const doc = readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8");
  const blocks = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const main = blocks.find((b) => b.includes("location /ws") && b.includes("ssl_certificate"));
  if (!main) throw new Error("docs/operations.md has no nginx block with ssl_certificate and location /ws");
  return main;
}

function rewrite(block: string, replacements: [string, string][]): string {
  let out = block;
  for (const [from, to] of replacements) {
    if (!out.includes(from)) throw new Error(`the documented nginx block no longer contains ${JSON.stringify(from)}`);
    out = out.replaceAll(from, to);
  }
  return out;
}

export async function startDocumentedNginx(upstreamPort: number): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-nginx-"));
  mkdirSync(join(dir, "tmp"), { recursive: true });
  // Run as root, nginx's workers run as "nobody": they must reach the temporary directories (request
  // bodies and responses nginx buffers to disk), as they can in an installed nginx.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, "tmp"), 0o1777);
  const cert = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=chat.example.com", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stderr: "pipe" });
  if (cert.exitCode !== 0) throw new Error(`openssl: ${cert.stderr.toString()}`);
  const [httpPort, tlsPort] = [freePort(), freePort()];
  const body = rewrite(documentedNginxBlock(), [
    ["    listen 80;\n", `    listen 127.0.0.1:${httpPort};\n`],
    ["    listen [::]:80;\n", ""],
    ["    listen 443 ssl http2;\n", `    listen 127.0.0.1:${tlsPort} ssl http2;\n`],
    ["    listen [::]:443 ssl http2;\n", ""],
    ["/etc/letsencrypt/live/chat.example.com/fullchain.pem", join(dir, "cert.pem")],
    ["/etc/letsencrypt/live/chat.example.com/privkey.pem", join(dir, "key.pem")],
    ["proxy_pass http://127.0.0.1:8080;", `proxy_pass http://127.0.0.1:${upstreamPort};`],
  ]);
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `${k}_temp_path ${dir}/tmp/${k};`);
  const conf = join(dir, "nginx.conf");
  // One worker: the test machine is small, and a kill must reach every process (one group).
  writeFileSync(conf, [`pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, "worker_processes 1;", "events {}", "http {", "log_format upstream '$request_method $request_uri $status $upstream_bytes_sent';", `access_log ${dir}/access.log upstream;`, ...temps, body, "}"].join("\n"));
  const url = `https://127.0.0.1:${tlsPort}`;
  let proc: Subprocess | undefined;

  const start = async () => {
    proc = Bun.spawn(["nginx", "-p", dir, "-e", join(dir, "error.log"), "-c", conf, "-g", "daemon off;"], { stdout: "ignore", stderr: "ignore", detached: true });
    live.add(proc.pid);
    let last = "";
    for (let i = 0; i < 100; i++) {
      try {
        const res = await insecureFetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `status ${res.status}`;
      } catch (error) {
        last = String(error);
      }
      await Bun.sleep(100);
    }
    throw new Error(`nginx did not come up: ${last}\n${errorLog()}`);
  };
  const errorLog = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  const accessLog = () => {
    try {
      return readFileSync(join(dir, "access.log"), "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  const kill = async () => {
    const running = proc;
    if (!running) return;
    proc = undefined;
    signalGroup(running.pid, "SIGKILL");
    await stopGroup(running.pid, 0);
    await running.exited;
    live.delete(running.pid);
  };
  await start();
  return {
    url,
    start,
    kill,
    errorLog,
    accessLog,
    async stop() {
      const running = proc;
      proc = undefined;
      if (running) {
        await stopGroup(running.pid, 5_000);
        await running.exited;
        live.delete(running.pid);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
