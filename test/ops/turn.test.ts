// The coturn part of compose.yml, run for real with the local coturn (same 4.6 series as the
// image): the turn-init script makes the certificate, turnserver accepts every flag, answers STUN,
// authenticates HMAC (TURN REST) credentials, and refuses to relay to private addresses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  REQUIRED_DENIED, allStrings, cidrToRange, freePort, hasCommand, interpolate, ipToBigInt, readRepoFile,
} from "./helpers.ts";

// deno-lint-ignore no-explicit-any
const compose = Bun.YAML.parse(readRepoFile("compose.yml")) as any;
const haveCoturn = hasCommand("turnserver") && hasCommand("openssl");
if (!haveCoturn) console.log("[skip] coturn checks: turnserver/openssl not installed (apt-get install -y coturn)");

const work = mkdtempSync(join(tmpdir(), "hearth-turn-"));
const certs = join(work, "certs");
const secret = randomBytes(32).toString("hex");
const realm = "hearth";
let port = 0;
let server: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
let serverOutput = "";

/** The turn-init script with the volume path mapped to a temp dir and apk (Alpine) left out. */
function runInit(env: Record<string, string>) {
  let script = allStrings(compose.services["turn-init"].command).join("\n");
  script = script.replaceAll("$$", "$").replaceAll("/certs/", `${certs}/`).replace(/apk add[^\n]*/, ":");
  if (process.getuid?.() !== 0) script = script.replace(/chown [^\n]*/, ":");
  Bun.spawnSync(["mkdir", "-p", certs]);
  const r = Bun.spawnSync(["sh", "-eu", "-c", script], { env: { PATH: process.env.PATH ?? "", ...env }, stderr: "pipe", stdout: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

/** compose's coturn command, interpolated as Compose would, with test ports and cert paths. */
function coturnArgs(listening: number, tls: number): string[] {
  const env = { TURN_AUTH_SECRET: secret, TURN_EXTERNAL_IP: "127.0.0.1", TURN_LISTENING_PORT: String(listening), TURN_TLS_PORT: String(tls) };
  return (compose.services.turn.command as string[]).map((arg) => interpolate(arg, env).replace("/certs/", `${certs}/`));
}

// --- a minimal STUN/TURN client (RFC 5389 / 5766), enough for Allocate and CreatePermission ---
const MAGIC = 0x2112a442;
const attr = (type: number, value: Buffer) => {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
};
function message(type: number, attrsOf: Buffer[] | ((txid: Buffer) => Buffer[]), key?: Buffer) {
  const txid = randomBytes(12);
  const attrs = typeof attrsOf === "function" ? attrsOf(txid) : attrsOf;
  const header = (len: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    txid.copy(h, 8);
    return h;
  };
  const body = Buffer.concat(attrs);
  if (!key) return { txid, bytes: Buffer.concat([header(body.length), body]) };
  // MESSAGE-INTEGRITY covers the message with its length already counting the MI attribute.
  const mac = createHmac("sha1", key).update(Buffer.concat([header(body.length + 24), body])).digest();
  return { txid, bytes: Buffer.concat([header(body.length + 24), body, attr(0x0008, mac)]) };
}
function parse(buf: Buffer) {
  const attrs = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= buf.length;) {
    const type = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    attrs.set(type, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  const err = attrs.get(0x0009);
  return { type: buf.readUInt16BE(0), txid: buf.subarray(8, 20), attrs, error: err ? err[2]! * 100 + err[3]! : 0 };
}
/** XOR-PEER-ADDRESS: the address XORed with the magic cookie (IPv4) or cookie + txid (IPv6). */
const xorPeer = (ip: string, peerPort: number, txid: Buffer) => {
  const { family, value } = ipToBigInt(ip);
  const size = family === 4 ? 4 : 16;
  const v = Buffer.alloc(4 + size);
  v.writeUInt8(family === 4 ? 0x01 : 0x02, 1);
  v.writeUInt16BE(peerPort ^ (MAGIC >>> 16), 2);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC, 0);
  txid.copy(mask, 4);
  for (let i = 0; i < size; i++) v[4 + i] = Number((value >> BigInt(8 * (size - 1 - i))) & 255n) ^ mask[i]!;
  return attr(0x0012, v);
};

type Reply = ReturnType<typeof parse>;
const pending = new Map<string, (r: Reply) => void>();
let udp: import("bun").udp.Socket<"buffer"> | undefined;
async function request(msg: { txid: Buffer; bytes: Buffer }): Promise<Reply> {
  // Retried every 300 ms while turnserver starts; bounded widely (a loaded machine starts it slowly).
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const reply = new Promise<Reply | null>((resolve) => {
      pending.set(msg.txid.toString("hex"), resolve);
      setTimeout(() => resolve(null), 300);
    });
    udp!.send(msg.bytes, port, "127.0.0.1");
    const r = await reply;
    if (r) return r;
  }
  throw new Error(`no STUN answer from 127.0.0.1:${port}\n${serverOutput}`);
}

beforeAll(async () => {
  if (!haveCoturn) return;
  udp = await Bun.udpSocket({
    socket: {
      data(_s, data) {
        const r = parse(Buffer.from(data));
        pending.get(r.txid.toString("hex"))?.(r);
      },
      // ICMP "port unreachable" while turnserver is still starting: the request is retried.
      error() {},
    },
  });
});
afterAll(async () => {
  udp?.close();
  if (server) {
    server.kill("SIGTERM");
    await Promise.race([server.exited, Bun.sleep(3000)]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!haveCoturn)("coturn as configured in compose.yml", () => {
  test("turn-init refuses to start without TURN_AUTH_SECRET or TURN_EXTERNAL_IP", () => {
    const noSecret = runInit({ HAS_TURN_AUTH_SECRET: "", TURN_EXTERNAL_IP: "127.0.0.1" });
    expect(noSecret.code).toBe(1);
    expect(noSecret.out).toContain("TURN_AUTH_SECRET");
    const noIp = runInit({ HAS_TURN_AUTH_SECRET: "yes", TURN_EXTERNAL_IP: "" });
    expect(noIp.code).toBe(1);
    expect(noIp.out).toContain("TURN_EXTERNAL_IP");
  });

  test("turn-init creates a self-signed certificate once, key readable only by coturn", () => {
    const first = runInit({ HAS_TURN_AUTH_SECRET: "yes", TURN_EXTERNAL_IP: "127.0.0.1" });
    expect(first.code).toBe(0);
    expect(first.out).toContain("generated a self-signed certificate");
    expect(statSync(join(certs, "turn_key.pem")).mode & 0o777).toBe(0o600);
    const check = Bun.spawnSync(["openssl", "x509", "-in", join(certs, "turn_cert.pem"), "-noout", "-subject"]);
    expect(check.stdout.toString()).toContain("127.0.0.1");
    const second = runInit({ HAS_TURN_AUTH_SECRET: "yes", TURN_EXTERNAL_IP: "127.0.0.1" });
    expect(second.code).toBe(0);
    expect(second.out).not.toContain("generated");
  });

  test("every flag survives the coturn image's `eval echo` entrypoint unchanged", () => {
    // docker-entrypoint.sh runs `exec $(eval "echo $@")`: quotes, $, spaces or globs would be mangled.
    for (const arg of coturnArgs(3478, 5349)) expect(arg).toMatch(/^--[a-z0-9_-]+(=[A-Za-z0-9.:\/_-]*)?$/);
  });

  test("turnserver starts with exactly these flags and answers STUN", async () => {
    expect(existsSync(join(certs, "turn_cert.pem"))).toBe(true);
    port = freePort();
    const args = coturnArgs(port, freePort());
    server = Bun.spawn(["turnserver", ...args, `--pidfile=${join(work, "turnserver.pid")}`], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    void new Response(server.stdout).text().then((t) => (serverOutput += t));
    void new Response(server.stderr).text().then((t) => (serverOutput += t));
    const binding = await request(message(0x0001, []));
    expect(binding.type).toBe(0x0101);
    expect(serverOutput).not.toMatch(/unrecognized option|Error resolving|CONFIG ERROR/i);
  });

  describe("relay policy", () => {
    let key: Buffer;
    let auth: (extra: Buffer[], nonce?: Buffer) => Buffer[];

    test("rejects unauthenticated allocations and accepts TURN REST credentials", async () => {
      const transport = attr(0x0019, Buffer.from([17, 0, 0, 0]));
      const challenge = await request(message(0x0003, [transport]));
      expect(challenge.error).toBe(401);
      expect(challenge.attrs.get(0x0014)!.toString()).toBe(realm);
      const nonce = challenge.attrs.get(0x0015)!;

      // What Hearth mints: "{expiry}:{user}", password = base64(HMAC-SHA1(TURN_AUTH_SECRET, username)).
      const username = `${Math.floor(Date.now() / 1000) + 600}:user-1`;
      const password = createHmac("sha1", secret).update(username).digest("base64");
      key = createHash("md5").update(`${username}:${realm}:${password}`).digest();
      // The nonce belongs to one client address; another socket fetches its own.
      auth = (extra, ownNonce = nonce) =>
        [...extra, attr(0x0006, Buffer.from(username)), attr(0x0014, Buffer.from(realm)), attr(0x0015, ownNonce)];

      const wrong = createHash("md5").update(`${username}:${realm}:not-the-password`).digest();
      expect((await request(message(0x0003, auth([transport]), wrong))).error).toBe(401);

      const allocated = await request(message(0x0003, auth([transport]), key));
      expect(allocated.error).toBe(0);
      expect(allocated.type).toBe(0x0103);
    });

    test("refuses permissions to every denied IPv4 range, allows a public address", async () => {
      expect(key).toBeDefined();
      const permit = async (ip: string) => (await request(message(0x0008, (txid) => auth([xorPeer(ip, 9, txid)]), key))).error;
      // One address inside each denied IPv4 range (its first address + 1, or itself for a /32).
      const samples = REQUIRED_DENIED.filter((c) => !c.includes(":")).map((cidr) => {
        const { first, last } = cidrToRange(cidr);
        const n = first === last ? first : first + 1n;
        return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
      });
      samples.push("127.0.0.1"); // TURN_EXTERNAL_IP in this test: the host itself
      const refused = await Promise.all(samples.map(async (ip) => [ip, await permit(ip)] as const));
      expect(refused.filter(([, code]) => code !== 403)).toEqual([]);
      expect(await permit("8.8.8.8")).toBe(0);
    });

    test("on an IPv6 allocation, refuses denied IPv6 ranges and allows a public address", async () => {
      expect(key).toBeDefined();
      // A second allocation needs a second client address (5-tuple): a new UDP socket.
      const family = attr(0x0017, Buffer.from([0x02, 0, 0, 0]));
      const transport = attr(0x0019, Buffer.from([17, 0, 0, 0]));
      const v6 = await Bun.udpSocket({ socket: { data(_s, d) { const r = parse(Buffer.from(d)); pending.get(r.txid.toString("hex"))?.(r); }, error() {} } });
      try {
        const via = async (msg: { txid: Buffer; bytes: Buffer }) => {
          const reply = new Promise<Reply | null>((resolve) => { pending.set(msg.txid.toString("hex"), resolve); setTimeout(() => resolve(null), 2000); });
          v6.send(msg.bytes, port, "127.0.0.1");
          const r = await reply;
          if (!r) throw new Error("no answer");
          return r;
        };
        const nonce = (await via(message(0x0003, [transport, family]))).attrs.get(0x0015)!;
        const allocated = await via(message(0x0003, auth([transport, family], nonce), key));
        if (allocated.error === 440 || allocated.error === 508) {
          console.log(`[skip] IPv6 relay checks: coturn has no IPv6 relay address here (error ${allocated.error})`);
          return;
        }
        expect(allocated.error).toBe(0);
        const permit = async (ip: string) => (await via(message(0x0008, (txid) => auth([xorPeer(ip, 9, txid)], nonce), key))).error;
        const samples = REQUIRED_DENIED.filter((c) => c.includes(":")).map((cidr) => {
          const { first, last } = cidrToRange(cidr);
          const n = first === last ? first : first + 1n;
          return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16)).join(":");
        });
        const refused = await Promise.all(samples.map(async (ip) => [ip, await permit(ip)] as const));
        expect(refused.filter(([, code]) => code !== 403)).toEqual([]);
        expect(await permit("2606:4700:4700::1111")).toBe(0);
      } finally {
        v6.close();
      }
    });
  });
});
