/**
 * Files through real Hearth processes (issue 12's operational acceptance): a server started with
 * test/helpers/hearth-gc-main.ts (SIGUSR2 = a full garbage collection, so RSS growth is measured
 * from a collected baseline), its RSS read from /proc, and Alice and Bob set up over HTTP only —
 * registered, in one community, Alice with a real E2EE device so she can send a message that
 * carries a file.
 */
import { readFileSync } from "node:fs";
import { createDeviceIdentity, exportDevicePublicBundle } from "../../src/client/e2ee/index.ts";
import { encodeDevicePublicBundle } from "../../src/shared/e2ee/index.ts";
import { spawnHearth, type HearthProcess } from "./process.ts";

export const MiB = 1024 * 1024;

/** Resident set size of a process in bytes (0 when it is gone). */
export function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A Hearth process whose garbage can be collected on demand (SIGUSR2). */
export function spawnGcHearth(env: Record<string, string | undefined>): HearthProcess {
  return spawnHearth({ cmd: ["bun", "test/helpers/hearth-gc-main.ts"], env });
}

/** Runs a full collection in the server (twice: the second frees what the first's finalizers released) and resolves with its RSS after it. */
export async function collectedRss(hearth: HearthProcess): Promise<number> {
  const count = () => hearth.output().split('"msg":"bench.gc"').length;
  for (let round = 0; round < 2; round++) {
    const before = count();
    process.kill(hearth.proc.pid, "SIGUSR2");
    for (let i = 0; i < 250 && count() === before; i++) await Bun.sleep(20);
    if (count() === before) throw new Error("the server did not log bench.gc after SIGUSR2");
    await Bun.sleep(200); // freed pages leave the RSS figure
  }
  return rssOf(hearth.proc.pid);
}

export type RssGrowth = { peak: number; retained: number };

/**
 * The server's peak RSS growth during `fn` (sampled every 10 ms) over a collected baseline, and
 * what it still holds after the next full collection, in bytes.
 */
export async function rssGrowthDuring<T>(hearth: HearthProcess, fn: () => Promise<T>): Promise<{ value: T; growth: RssGrowth }> {
  const pid = hearth.proc.pid;
  const before = await collectedRss(hearth);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 10);
  try {
    const value = await fn();
    peak = Math.max(peak, rssOf(pid));
    clearInterval(timer);
    const after = await collectedRss(hearth);
    return { value, growth: { peak: peak - before, retained: after - before } };
  } finally {
    clearInterval(timer);
  }
}

export const fmtMiB = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

export type HttpUser = { id: string; headers: Record<string, string> };

export type AliceAndBob = { alice: HttpUser; bob: HttpUser; channelId: string; aliceDeviceId: string };

type Fetch = typeof fetch;

async function call(f: Fetch, base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<any> {
  const res = await f(`${base}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Alice (registered with the setup token: the server's admin) and Bob (REGISTRATION_MODE=open)
 * in one community; Alice has a registered device. Everything over HTTP through `base`.
 */
export async function setUpAliceAndBob(base: string, setupToken: string, f: Fetch = fetch): Promise<AliceAndBob> {
  const register = async (username: string, extra: Record<string, unknown>): Promise<HttpUser> => {
    const reg = await call(f, base, "POST", "/api/auth/register", {}, { username, email: `${username}@example.test`, password: `${username} password 1234 long`, ...extra });
    return { id: reg.user?.id ?? reg.user_id, headers: { authorization: `Bearer ${reg.access_token}` } };
  };
  const alice = await register("alice", { setup_token: setupToken });
  const bob = await register("bob", {});
  const community = await call(f, base, "POST", "/api/communities", alice.headers, { name: "Files" });
  const groups = await call(f, base, "GET", `/api/communities/${community.id}/groups`, alice.headers);
  const channelId = groups.groups[0].channels[0].id as string;
  const invite = await call(f, base, "POST", `/api/communities/${community.id}/invites`, alice.headers, {});
  await call(f, base, "POST", `/api/community-invites/${invite.code}/accept`, bob.headers);
  const aliceDeviceId = `dev-${crypto.randomUUID()}`;
  const device = createDeviceIdentity({ userId: alice.id, deviceId: aliceDeviceId, now: Date.now() });
  await call(f, base, "POST", "/api/keys/devices", alice.headers, encodeDevicePublicBundle(exportDevicePublicBundle(device)));
  return { alice, bob, channelId, aliceDeviceId };
}

/** Alice sends a message carrying the files (its ciphertext is opaque to the server: random bytes do). */
export async function sendFiles(base: string, p: AliceAndBob, fileIds: string[], f: Fetch = fetch): Promise<void> {
  const ciphertext = Buffer.from(crypto.getRandomValues(new Uint8Array(64))).toString("base64url");
  await call(f, base, "POST", `/api/channels/${p.channelId}/messages`, p.alice.headers, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext, sender_device_id: p.aliceDeviceId, file_ids: fileIds });
}

/** A file of `size` random bytes at `path`, written 1 MiB at a time; resolves with its SHA-256. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const writer = Bun.file(path).writer();
  const hasher = new Bun.CryptoHasher("sha256");
  const block = new Uint8Array(MiB);
  for (let at = 0; at < size; at += MiB) {
    const n = Math.min(MiB, size - at);
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(block.subarray(i, Math.min(n, i + 65536)));
    writer.write(block.subarray(0, n));
    hasher.update(block.subarray(0, n));
  }
  await writer.end();
  return hasher.digest("hex");
}

/** SHA-256 and length of a stream, read chunk by chunk. */
export async function hashStream(stream: ReadableStream<Uint8Array>): Promise<{ sha256: string; length: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let length = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hasher.update(chunk);
    length += chunk.byteLength;
  }
  return { sha256: hasher.digest("hex"), length };
}
