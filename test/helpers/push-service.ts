/**
 * A small RFC 8030 push service on loopback for the web push tests. It is strict where a real
 * one is: every push must carry a VAPID authorization (RFC 8292) whose ES256 JWT verifies
 * against the public key it names, for this service's origin as `aud`, unexpired; and the body
 * must be an aes128gcm message (RFC 8188 / RFC 8291) that decrypts with the subscription keys
 * the test holds (the browser's side). Each received push is recorded with its decrypted payload;
 * a subscription can be told to answer with another status (410 = gone).
 */
import { createECDH, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { decodeProtectedHeader, importJWK, jwtVerify, type JWTPayload } from "jose";

export type ReceivedPush = {
  subscription: string;
  /** The decrypted payload (UTF-8) and the raw body as sent. */
  text: string;
  raw: Uint8Array;
  jwt: { valid: boolean; alg?: string; claims?: JWTPayload; key?: string; error?: string };
  headers: Record<string, string>;
  receivedAt: number;
};

export type TestSubscription = { id: string; endpoint: string; keys: { p256dh: string; auth: string } };

type Held = { ecdh: ReturnType<typeof createECDH>; auth: Buffer; status: number };

const hmac = (key: Buffer, data: Buffer) => createHmac("sha256", key).update(data).digest();

/** RFC 8291 §3.4 + RFC 8188: decrypts one aes128gcm push message body with the user agent's keys. */
export function decryptAes128gcm(body: Uint8Array, ecdh: ReturnType<typeof createECDH>, authSecret: Buffer): string {
  const buf = Buffer.from(body);
  const salt = buf.subarray(0, 16);
  const rs = buf.readUInt32BE(16);
  const idlen = buf[20]!;
  const asPublic = buf.subarray(21, 21 + idlen);
  const records = buf.subarray(21 + idlen);
  if (records.length > rs) throw new Error("more than one record");
  const uaPublic = ecdh.getPublicKey();
  const ecdhSecret = ecdh.computeSecret(asPublic);
  const prkKey = hmac(authSecret, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), uaPublic, asPublic, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0\x01")).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0\x01")).subarray(0, 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const plain = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error("last-record delimiter missing");
  return plain.subarray(0, end).toString("utf8");
}

async function verifyVapid(header: string | null, origin: string): Promise<ReceivedPush["jwt"]> {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? "");
  if (!m) return { valid: false, error: `no vapid authorization: ${header}` };
  const [, token, k] = m;
  try {
    const raw = Buffer.from(k!, "base64url");
    if (raw.length !== 65 || raw[0] !== 4) return { valid: false, key: k, error: "bad k" };
    const key = await importJWK({ kty: "EC", crv: "P-256", x: raw.subarray(1, 33).toString("base64url"), y: raw.subarray(33).toString("base64url") }, "ES256");
    const { payload } = await jwtVerify(token!, key, { algorithms: ["ES256"], audience: origin });
    const ok = typeof payload.sub === "string" && /^(mailto:|https:)/.test(payload.sub) && typeof payload.exp === "number" && payload.exp <= Date.now() / 1000 + 24 * 3600;
    return { valid: ok, alg: decodeProtectedHeader(token!).alg, claims: payload, key: k, error: ok ? undefined : "claims" };
  } catch (error) {
    return { valid: false, key: k, error: error instanceof Error ? error.message : String(error) };
  }
}

export type TestPushService = {
  origin: string;
  received: ReceivedPush[];
  /** A browser-side subscription: fresh P-256 keys and auth secret held here. */
  subscribe(): TestSubscription;
  /** What this subscription's endpoint answers from now on (201 by default; 410 = gone). */
  answer(id: string, status: number): void;
  /** Resolves when `count` pushes in total have arrived (bounded wait), with them. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  stop(): Promise<void>;
};

export function startPushService(): TestPushService {
  const held = new Map<string, Held>();
  const received: ReceivedPush[] = [];
  const waiters = new Set<() => void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const id = /^\/push\/([a-z0-9-]+)$/.exec(url.pathname)?.[1];
      const sub = id ? held.get(id) : undefined;
      if (request.method !== "POST" || !id || !sub) return new Response("no such subscription", { status: 404 });
      const raw = new Uint8Array(await request.arrayBuffer());
      const headers = Object.fromEntries(request.headers);
      if (headers["content-encoding"] !== "aes128gcm" || !headers["ttl"]) return new Response("bad headers", { status: 400 });
      const jwt = await verifyVapid(request.headers.get("authorization"), url.origin);
      let text = "";
      try {
        text = decryptAes128gcm(raw, sub.ecdh, sub.auth);
      } catch (error) {
        text = `<<undecryptable: ${error instanceof Error ? error.message : String(error)}>>`;
      }
      received.push({ subscription: id, text, raw, jwt, headers, receivedAt: performance.now() });
      for (const w of waiters) w();
      if (!jwt.valid) return new Response("bad vapid", { status: 403 });
      return new Response(null, { status: sub.status });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  return {
    origin,
    received,
    subscribe() {
      const id = crypto.randomUUID();
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      held.set(id, { ecdh, auth, status: 201 });
      return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } };
    },
    answer(id, status) {
      held.get(id)!.status = status;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} pushes, got ${received.length}`));
        }, timeoutMs);
        const check = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(received.slice());
        };
        waiters.add(check);
      });
    },
    async stop() {
      await server.stop(true);
    },
  };
}
