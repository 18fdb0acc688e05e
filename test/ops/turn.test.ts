// The coturn part of compose.yml, run for real with the local coturn (same 4.6 series as the
// image): the turn-init script makes the certificate, turnserver accepts every flag, answers STUN,
// authenticates HMAC (TURN REST) credentials, and refuses to relay to private addresses.
import { afterAll, describe, expect, test } from "bun:test";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REQUIRED_DENIED, cidrToRange, freePort } from "./helpers.ts";
import { StunClient, attr, coturnArgs, haveCoturn, longTermKey, message, runTurnInit, xorPeer, type StunMessage } from "./coturn.ts";

if (!haveCoturn) console.log("[skip] coturn checks: turnserver/openssl not installed (apt-get install -y coturn)");

const work = mkdtempSync(join(tmpdir(), "hearth-turn-"));
const certs = join(work, "certs");
const secret = randomBytes(32).toString("hex");
const realm = "hearth";
let port = 0;
let server: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
let serverOutput = "";
let client: StunClient | undefined;

const runInit = (env: Record<string, string>) => runTurnInit(certs, env);
const request = (msg: StunMessage) => client!.request(msg);

afterAll(async () => {
  client?.close();
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
    for (const arg of coturnArgs(secret, certs, 3478, 5349)) expect(arg).toMatch(/^--[a-z0-9_-]+(=[A-Za-z0-9.:\/_-]*)?$/);
  });

  test("turnserver starts with exactly these flags and answers STUN", async () => {
    expect(existsSync(join(certs, "turn_cert.pem"))).toBe(true);
    port = freePort();
    const args = coturnArgs(secret, certs, port, freePort());
    server = Bun.spawn(["turnserver", ...args, `--pidfile=${join(work, "turnserver.pid")}`], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    void new Response(server.stdout).text().then((t) => (serverOutput += t));
    void new Response(server.stderr).text().then((t) => (serverOutput += t));
    client = await StunClient.open(port, () => serverOutput);
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
      key = longTermKey(username, password);
      // The nonce belongs to one client address; another socket fetches its own.
      auth = (extra, ownNonce = nonce) =>
        [...extra, attr(0x0006, Buffer.from(username)), attr(0x0014, Buffer.from(realm)), attr(0x0015, ownNonce)];

      const wrong = longTermKey(username, "not-the-password");
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
      const v6 = await StunClient.open(port, () => serverOutput);
      try {
        const via = (msg: StunMessage) => v6.request(msg, 2_000);
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
