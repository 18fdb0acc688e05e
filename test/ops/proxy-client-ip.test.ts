/**
 * The client IP through the REAL reverse proxies, configured with the blocks docs/operations.md
 * tells operators to copy (security review, issue 10 item 3). nginx and Caddy run on loopback in
 * front of Hearth (app.listen), and the blocks are rewritten only for loopback ports, temporary
 * paths and a throwaway certificate. Each "client" connects from its own loopback address
 * (127.0.0.x, not trusted: only the proxies' 127.0.0.1 is), rotates X-Forwarded-For,
 * X-Real-IP and CF-Connecting-IP on every request, and must still:
 *   - land in ONE rate-limit bucket (auth endpoints, and the WebSocket upgrade at /ws),
 *   - have its real address stored on the session and the audit row of its login.
 * Skipped, with a printed reason, when nginx or caddy is not installed (.ci/run installs both).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { hasCommand, readRepoFile } from "./helpers.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createUser, TEST_PASSWORD } from "../helpers/users.ts";

const haveNginx = hasCommand("nginx");
const haveCaddy = hasCommand("caddy");
if (!haveNginx) console.log("[skip] client IP through the documented nginx config: nginx is not installed (apt-get install nginx-light)");
if (!haveCaddy) console.log("[skip] client IP through the documented Caddy config: caddy is not installed (apt-get install caddy)");

const AUTH_BURST = 10;
const GENERAL_BURST = 20;

const doc = readRepoFile("docs/operations.md");
const blocks = (lang: string) => [...doc.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

/** Applies exact replacements; each must match, so a changed doc fails here instead of testing something else. */
function rewrite(block: string, replacements: [string, string][]): string {
  let out = block;
  for (const [from, to] of replacements) {
    expect(out.includes(from)).toBe(true);
    out = out.replaceAll(from, to);
  }
  return out;
}

function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

type Entry = { name: string; url: string; servername?: string };

const work = mkdtempSync(join(tmpdir(), "hearth-proxy-ip-"));
const procs: Subprocess[] = [];
// Set by afterAll: a setup that outlived its hook's timeout (a loaded machine) must not leave a
// proxy running after the file ended, so whatever it spawns afterwards is stopped at once.
let stopped = false;
function track(proc: Subprocess): void {
  procs.push(proc);
  if (stopped) proc.kill("SIGTERM");
}
let ctx: TestContext;
let hearthPort = 0;
const entries: Entry[] = [];

async function startNginx(): Promise<void> {
  const dir = join(work, "nginx");
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const cert = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=chat.example.com", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
  expect(cert.exitCode).toBe(0);
  const main = blocks("nginx").find((b) => b.includes("location /ws") && b.includes("ssl_certificate"))!;
  const upstream = blocks("nginx").find((b) => b.includes("upstream hearth"))!;
  const [httpPort, tlsPort, lbPort] = [freePort(), freePort(), freePort()];
  const body = [
    rewrite(main, [
      ["    listen 80;\n", `    listen 127.0.0.1:${httpPort};\n`],
      ["    listen [::]:80;\n", ""],
      ["    listen 443 ssl http2;\n", `    listen 127.0.0.1:${tlsPort} ssl http2;\n`],
      ["    listen [::]:443 ssl http2;\n", ""],
      ["/etc/letsencrypt/live/chat.example.com/fullchain.pem", join(dir, "cert.pem")],
      ["/etc/letsencrypt/live/chat.example.com/privkey.pem", join(dir, "key.pem")],
      ["proxy_pass http://127.0.0.1:8080;", `proxy_pass http://127.0.0.1:${hearthPort};`],
    ]),
    rewrite(upstream, [
      ["server 127.0.0.1:8080 ", `server 127.0.0.1:${hearthPort} `],
      ["server 127.0.0.1:8081 ", `server 127.0.0.1:${hearthPort} `],
      ["    listen 8082;\n", `    listen 127.0.0.1:${lbPort};\n`],
    ]),
  ].join("\n");
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `${k}_temp_path ${dir}/tmp/${k};`);
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, [`pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, "events {}", "http {", "access_log off;", ...temps, body, "}"].join("\n"));
  track(Bun.spawn(["nginx", "-p", dir, "-e", join(dir, "error.log"), "-c", conf, "-g", "daemon off;"], { stdout: "ignore", stderr: "pipe" }));
  entries.push({ name: "nginx (TLS server block)", url: `https://127.0.0.1:${tlsPort}`, servername: "chat.example.com" });
  entries.push({ name: "nginx (several instances, upstream block)", url: `http://127.0.0.1:${lbPort}` });
}

async function startCaddy(): Promise<void> {
  const dir = join(work, "caddy");
  mkdirSync(dir, { recursive: true });
  const [mainPort, lbPort] = [freePort(), freePort()];
  const [main, lb] = blocks("caddyfile");
  const file = join(dir, "Caddyfile");
  writeFileSync(file, [
    // Global options for the test only: no admin endpoint (other runs share the machine), loopback only.
    "{\n\tadmin off\n\tdefault_bind 127.0.0.1\n}",
    rewrite(main!, [["chat.example.com {", `http://127.0.0.1:${mainPort} {`], ["reverse_proxy 127.0.0.1:8080 {", `reverse_proxy 127.0.0.1:${hearthPort} {`]]),
    rewrite(lb!, [["chat.example.com {", `http://127.0.0.1:${lbPort} {`], ["reverse_proxy 127.0.0.1:8080 127.0.0.1:8081 {", `reverse_proxy 127.0.0.1:${hearthPort} 127.0.0.1:${hearthPort} {`]]),
  ].join("\n"));
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") };
  track(Bun.spawn(["caddy", "run", "--config", file, "--adapter", "caddyfile"], { env, stdout: "ignore", stderr: "pipe" }));
  entries.push({ name: "Caddy (single instance block)", url: `http://127.0.0.1:${mainPort}` });
  entries.push({ name: "Caddy (several instances, load-balancing block)", url: `http://127.0.0.1:${lbPort}` });
}

type Reply = { status: number; body: string };

/** One request over a fresh connection from `from` (a loopback address); 101 upgrades are closed at once. */
function requestFrom(entry: Entry, from: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const url = new URL(path, entry.url);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      { host: url.hostname, port: url.port, path: url.pathname, method, headers: { ...headers, ...(body ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } : {}) }, localAddress: from, agent: false, rejectUnauthorized: false, servername: entry.servername, timeout: 15_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: "" });
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** A different lie on every request, in every header a proxy might pass through. */
function forgedHeaders(i: number): Record<string, string> {
  return { "x-forwarded-for": `198.51.100.${i % 250}, 203.0.113.${i % 250}`, "x-real-ip": `192.0.2.${i % 250}`, "cf-connecting-ip": `203.0.113.${(i * 7) % 250}`, "true-client-ip": `198.51.100.${(i * 3) % 250}` };
}

async function waitUntilServing(entry: Entry) {
  let last = "";
  for (let i = 0; i < 100; i++) {
    try {
      // Any answer from Hearth will do (the probe's own bucket may be empty): the proxy is up.
      const r = await requestFrom(entry, "127.0.0.1", "GET", "/health", {});
      if (r.status === 200 || r.status === 429) return;
      last = `status ${r.status}`;
    } catch (error) {
      last = String(error);
    }
    await Bun.sleep(100);
  }
  let logs = "";
  try {
    logs = readFileSync(join(work, "nginx", "error.log"), "utf8");
  } catch {}
  throw new Error(`${entry.name} did not come up: ${last}\n${logs}`);
}

beforeAll(async () => {
  if (!haveNginx && !haveCaddy) return;
  ctx = await createTestContext({
    // Only the proxies' own address is trusted; the clients below (127.0.0.10+) are "the internet".
    env: { TRUSTED_PROXIES: "127.0.0.1" },
    // The seeds' auth burst, next to no refill: counts cannot drift with the machine's speed.
    rateLimits: { general: { ratePerSec: 0.001, burst: GENERAL_BURST }, auth: { ratePerSec: 0.001, burst: AUTH_BURST } },
    sleep: async () => {},
    captureLogs: true,
  });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  hearthPort = ctx.app.server!.port!;
  if (haveNginx) await startNginx();
  if (haveCaddy) await startCaddy();
  for (const entry of entries) await waitUntilServing(entry);
}, 180_000);

afterAll(async () => {
  stopped = true;
  for (const proc of procs) {
    proc.kill("SIGTERM");
    await proc.exited;
  }
  await ctx?.close();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!haveNginx && !haveCaddy)("client IP through the documented proxy configs", () => {
  test("every proxy block was started", () => {
    expect(entries.length).toBe((haveNginx ? 2 : 0) + (haveCaddy ? 2 : 0));
  });

  // One client address per proxy block and purpose, so every bucket starts full.
  const clientAddress = (entryIndex: number, purpose: 0 | 1) => `127.0.0.${10 + entryIndex * 2 + purpose}`;

  test("a client rotating X-Forwarded-For / X-Real-IP / CF-Connecting-IP: its real address on the session and the audit row, one auth bucket", async () => {
    for (const [index, entry] of entries.entries()) {
      const client = clientAddress(index, 0);
      const user = await createUser(ctx);
      const login = await requestFrom(entry, client, "POST", "/api/auth/login", forgedHeaders(1000), JSON.stringify({ username: user.username, password: TEST_PASSWORD }));
      expect([entry.name, login.status]).toEqual([entry.name, 200]);
      const session = await ctx.database.db.selectFrom("sessions").select(["id", "ip"]).where("user_id", "=", user.id).executeTakeFirstOrThrow();
      expect([entry.name, session.ip]).toEqual([entry.name, client]);
      const audit = await ctx.database.db.selectFrom("audit_log").select("ip").where("action", "=", "login").where("target_id", "=", session.id).executeTakeFirstOrThrow();
      expect([entry.name, audit.ip]).toEqual([entry.name, client]);

      // The login took one token of the auth bucket; every further lie still pays into the same one.
      const statuses: number[] = [];
      for (let i = 0; i < AUTH_BURST + 3; i++) {
        statuses.push((await requestFrom(entry, client, "POST", "/api/auth/refresh", forgedHeaders(i), JSON.stringify({ refresh_token: "x".repeat(40) }))).status);
      }
      expect([entry.name, statuses.filter((s) => s !== 429).length]).toEqual([entry.name, AUTH_BURST - 1]);
      expect([entry.name, statuses.slice(AUTH_BURST - 1)]).toEqual([entry.name, [429, 429, 429, 429]]);
    }
    // Every refusal was logged against the client's real address, never a forged one.
    const limited = ctx.logs.map((l) => JSON.parse(l) as { msg: string; ip?: string; bucket?: string }).filter((l) => l.msg === "http.rate_limited" && l.bucket === "auth");
    expect(limited.length).toBe(entries.length * 4);
    expect(new Set(limited.map((l) => l.ip))).toEqual(new Set(entries.map((_, i) => clientAddress(i, 0))));
  }, 60_000);

  test("WebSocket upgrades through the /ws location land in one bucket too", async () => {
    for (const [index, entry] of entries.entries()) {
      const client = clientAddress(index, 1);
      const statuses: number[] = [];
      for (let i = 0; i < GENERAL_BURST + 3; i++) {
        const headers = { ...forgedHeaders(i), connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64") };
        statuses.push((await requestFrom(entry, client, "GET", "/ws", headers)).status);
      }
      expect([entry.name, statuses.slice(0, GENERAL_BURST).every((s) => s === 101)]).toEqual([entry.name, true]);
      expect([entry.name, statuses.slice(GENERAL_BURST)]).toEqual([entry.name, [429, 429, 429]]);
    }
  }, 60_000);
});
