/**
 * coturn as compose.yml runs it, for real on loopback, and a minimal STUN/TURN client (RFC 5389 /
 * 5766: Binding, Allocate, CreatePermission with long-term credentials). Shared by
 * test/ops/turn.test.ts (the compose hardening) and test/features/voice/turn-credentials.test.ts
 * (credentials Hearth mints allocate; expired and forged ones are refused).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { allStrings, freePort, hasCommand, interpolate, ipToBigInt, readRepoFile } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
export const compose = Bun.YAML.parse(readRepoFile("compose.yml")) as any;
export const haveCoturn = hasCommand("turnserver") && hasCommand("openssl");
/** compose.yml's --realm. */
export const REALM = "hearth";

/** The turn-init script with the volume path mapped to `certs` and apk (Alpine) left out. */
export function runTurnInit(certs: string, env: Record<string, string>): { code: number; out: string } {
  let script = allStrings(compose.services["turn-init"].command).join("\n");
  script = script.replaceAll("$$", "$").replaceAll("/certs/", `${certs}/`).replace(/apk add[^\n]*/, ":");
  if (process.getuid?.() !== 0) script = script.replace(/chown [^\n]*/, ":");
  mkdirSync(certs, { recursive: true });
  const r = Bun.spawnSync(["sh", "-eu", "-c", script], { env: { PATH: process.env.PATH ?? "", ...env }, stderr: "pipe", stdout: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

/** compose's coturn command, interpolated as Compose would, with test ports and cert paths. */
export function coturnArgs(secret: string, certs: string, listening: number, tls: number): string[] {
  const env = { TURN_AUTH_SECRET: secret, TURN_EXTERNAL_IP: "127.0.0.1", TURN_LISTENING_PORT: String(listening), TURN_TLS_PORT: String(tls) };
  return (compose.services.turn.command as string[]).map((arg) => interpolate(arg, env).replace("/certs/", `${certs}/`));
}

// --- STUN/TURN messages ------------------------------------------------------------------------
export const MAGIC = 0x2112a442;
export const attr = (type: number, value: Buffer) => {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
};
export type StunMessage = { txid: Buffer; bytes: Buffer };
export function message(type: number, attrsOf: Buffer[] | ((txid: Buffer) => Buffer[]), key?: Buffer): StunMessage {
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
export function parse(buf: Buffer) {
  const attrs = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= buf.length; ) {
    const type = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    attrs.set(type, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  const err = attrs.get(0x0009);
  return { type: buf.readUInt16BE(0), txid: buf.subarray(8, 20), attrs, error: err ? err[2]! * 100 + err[3]! : 0 };
}
export type Reply = ReturnType<typeof parse>;

/** XOR-PEER-ADDRESS: the address XORed with the magic cookie (IPv4) or cookie + txid (IPv6). */
export const xorPeer = (ip: string, peerPort: number, txid: Buffer) => {
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

/** The long-term credential key (RFC 5389 §15.4): MD5(username ":" realm ":" password). */
export const longTermKey = (username: string, password: string) => createHash("md5").update(`${username}:${REALM}:${password}`).digest();

/** One UDP client socket (one 5-tuple: one allocation) talking to the server at `port`. */
export class StunClient {
  private readonly pending = new Map<string, (r: Reply) => void>();
  private constructor(
    private readonly socket: import("bun").udp.Socket<"buffer">,
    private readonly port: number,
    private readonly log: () => string,
  ) {}

  static async open(port: number, log: () => string = () => ""): Promise<StunClient> {
    let client: StunClient | undefined;
    const socket = await Bun.udpSocket({
      socket: {
        data(_s, data) {
          const r = parse(Buffer.from(data));
          client?.pending.get(r.txid.toString("hex"))?.(r);
        },
        // ICMP "port unreachable" while turnserver is still starting: the request is retried.
        error() {},
      },
    });
    client = new StunClient(socket, port, log);
    return client;
  }

  /** Sends until answered, every 300 ms; bounded widely (a loaded machine starts coturn slowly). */
  async request(msg: StunMessage, boundMs = 30_000): Promise<Reply> {
    for (const deadline = Date.now() + boundMs; Date.now() < deadline; ) {
      const reply = new Promise<Reply | null>((resolve) => {
        this.pending.set(msg.txid.toString("hex"), resolve);
        setTimeout(() => resolve(null), 300);
      });
      this.socket.send(msg.bytes, this.port, "127.0.0.1");
      const r = await reply;
      if (r) return r;
    }
    throw new Error(`no STUN answer from 127.0.0.1:${this.port}\n${this.log()}`);
  }

  /**
   * A UDP Allocate with these credentials (the 401 challenge first, for realm and nonce): the
   * STUN error code of the authenticated attempt, 0 when the allocation was made.
   */
  async allocate(username: string, password: string): Promise<number> {
    const transport = attr(0x0019, Buffer.from([17, 0, 0, 0]));
    const challenge = await this.request(message(0x0003, [transport]));
    if (challenge.error !== 401) throw new Error(`expected a 401 challenge, got ${challenge.error}`);
    const nonce = challenge.attrs.get(0x0015)!;
    const auth = [transport, attr(0x0006, Buffer.from(username)), attr(0x0014, Buffer.from(REALM)), attr(0x0015, nonce)];
    return (await this.request(message(0x0003, auth, longTermKey(username, password)))).error;
  }

  close(): void {
    this.socket.close();
  }
}

/** A turnserver with compose's flags on free loopback ports (turn-init makes its certificate). */
export type Coturn = { port: number; output(): string; stop(): Promise<void> };

export async function startCoturn(secret: string, work: string): Promise<Coturn> {
  const certs = join(work, "certs");
  const init = runTurnInit(certs, { HAS_TURN_AUTH_SECRET: "yes", TURN_EXTERNAL_IP: "127.0.0.1" });
  if (init.code !== 0) throw new Error(`turn-init failed: ${init.out}`);
  const port = freePort();
  let output = "";
  const server = Bun.spawn(["turnserver", ...coturnArgs(secret, certs, port, freePort()), `--pidfile=${join(work, "turnserver.pid")}`], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  void new Response(server.stdout).text().then((t) => (output += t));
  void new Response(server.stderr).text().then((t) => (output += t));
  const probe = await StunClient.open(port, () => output);
  try {
    const binding = await probe.request(message(0x0001, []));
    if (binding.type !== 0x0101) throw new Error(`turnserver answered ${binding.type} to a Binding request`);
  } finally {
    probe.close();
  }
  return {
    port,
    output: () => output,
    async stop() {
      server.kill("SIGTERM");
      await Promise.race([server.exited, Bun.sleep(3000)]);
      if (server.exitCode === null) server.kill("SIGKILL");
    },
  };
}
