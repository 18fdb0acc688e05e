/**
 * Issue 12 acceptance: upload on instance A, download on instance B — two real Hearth processes
 * (`bun src/main.ts`, each in its own process group) sharing one PostgreSQL database, one data
 * directory's secrets, one S3-compatible bucket (s3rver on loopback) and Redis, as instances
 * behind a load balancer do (docs/operations.md "Several instances behind one proxy"). Alice
 * encrypts and uploads on A and sends the file on A; Bob downloads and decrypts it on B, whole and
 * by a chunk-aligned Range, with equal SHA-256s. The per-user upload rate limit is one bucket
 * across both processes (Redis). test/features/files/two-instances.test.ts covers the same with
 * two apps in one process. Skipped with a printed reason without PostgreSQL, Redis or s3rver.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { downloadFile, uploadFile, type FilesApi, type UploadState } from "../../../src/client/files/index.ts";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../../helpers/db.ts";
import { hashStream, MiB, sendFiles, setUpAliceAndBob, writeRandomFile, type AliceAndBob } from "../../helpers/files-process.ts";
import { spawnHearth, type HearthProcess } from "../../helpers/process.ts";
import { startS3rver, type TestS3 } from "../../helpers/s3rver.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
const missing = !TEST_DATABASE_URL ? "TEST_DATABASE_URL is not set" : !REDIS_URL ? "REDIS_URL is not set" : undefined;
if (missing) console.log(`[skip] files across two Hearth processes: ${missing}`);
const s3: TestS3 | undefined = missing ? undefined : await startS3rver();
if (!missing && !s3) console.log("[skip] files across two Hearth processes: s3rver did not start (reason above)");
const skip = !!missing || !s3;

const SETUP_TOKEN = "files-two-processes-setup-token";
/** 10 MiB + a bit: three 4 MiB parts (the client library's default part size). */
const SIZE = 10 * MiB + 12_345;
const SEALED = 65536 + 16;

const work = mkdtempSync(join(tmpdir(), "hearth-files-2p-"));
let database: { url: string; drop(): Promise<void> } | undefined;
let a: HearthProcess | undefined;
let b: HearthProcess | undefined;
let urlA = "";
let urlB = "";
let p: AliceAndBob;

beforeAll(async () => {
  if (skip) return;
  database = await createEmptyPostgresDatabase();
  // One data directory: the instances share the JWT keys and secrets A generates on its first
  // start (docs/operations.md: replicas share the data volume and the secrets).
  const env = { LISTEN_ADDR: "127.0.0.1:0", DATABASE_URL: database!.url, REDIS_URL, DATA_DIR: join(work, "data"), SETUP_TOKEN, REGISTRATION_MODE: "open", COMMUNITY_CREATION_MODE: "anyone", ...s3!.env("two-processes/") };
  a = spawnHearth({ env });
  urlA = await a.ready(120_000); // migrates the database first; B starts on a migrated one
  b = spawnHearth({ env });
  urlB = await b.ready(120_000);
  p = await setUpAliceAndBob(urlA, SETUP_TOKEN);
}, 300_000);

afterAll(async () => {
  try {
    await b?.stop();
    await a?.stop();
  } finally {
    await database?.drop();
    await s3?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}, 60_000);

describe.skipIf(skip)("files across two Hearth processes (PostgreSQL, S3, Redis)", () => {
  test("uploaded and sent on A; Bob downloads on B whole and by range: equal SHA-256", async () => {
    expect(a!.proc.pid).not.toBe(b!.proc.pid);
    const source = join(work, "source.bin");
    const plainSha = await writeRandomFile(source, SIZE);
    const state: UploadState = await uploadFile({ base: urlA, headers: p.alice.headers }, { channelId: p.channelId, file: Bun.file(source) });
    expect(state.partCount).toBe(3);
    await sendFiles(urlA, p, [state.id]);

    const onB: FilesApi = { base: urlB, headers: p.bob.headers };
    const plain = await hashStream(await downloadFile(onB, { id: state.id, key: state.key, header: state.header }));
    expect([plain.length, plain.sha256]).toEqual([SIZE, plainSha]);

    // The ciphertext from B equals A's, whole and in a range across the parts' border.
    const wholeA = new Uint8Array(await (await fetch(`${urlA}/api/files/${state.id}`, { headers: p.bob.headers })).arrayBuffer());
    const wholeB = await fetch(`${urlB}/api/files/${state.id}`, { headers: p.bob.headers });
    expect(wholeB.status).toBe(200);
    const bytesB = new Uint8Array(await wholeB.arrayBuffer());
    expect([bytesB.length, Bun.hash(bytesB)]).toEqual([state.size, Bun.hash(wholeA)]);
    const [from, to] = [SEALED * 60, SEALED * 70]; // chunks 60–69: part 0 ends after chunk 63
    const ranged = await fetch(`${urlB}/api/files/${state.id}`, { headers: { ...p.bob.headers, range: `bytes=${from}-${to - 1}` } });
    expect([ranged.status, ranged.headers.get("content-range")]).toEqual([206, `bytes ${from}-${to - 1}/${state.size}`]);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.from(wholeA.subarray(from, to)))).toBe(true);
  }, 120_000);

  test("the per-user upload rate limit is one bucket across both processes (Redis)", async () => {
    // Each request comes "from" another client address (loopback is a trusted proxy by default),
    // so only the per-user upload bucket (10/s, burst 100) can refuse it, not the per-IP ones.
    // A part PUT to an unknown session takes a token, then answers 404.
    let n = 0;
    const put = (base: string) =>
      fetch(`${base}/api/files/uploads/${crypto.randomUUID()}/parts/0`, { method: "PUT", headers: { ...p.bob.headers, "content-type": "application/octet-stream", "x-forwarded-for": `198.18.${(++n >> 8) & 255}.${n & 255}` } }).then(async (res) => ({ status: res.status, code: ((await res.json()) as { error?: { code?: string } }).error?.code }));
    // Empty Bob's bucket on A.
    const onA: { status: number; code?: string }[] = [];
    for (let i = 0; i < 200 && onA.at(-1)?.status !== 429; i++) onA.push(await put(urlA));
    expect(onA.at(-1)).toEqual({ status: 429, code: "UPLOAD_RATE_LIMITED" });
    expect(onA.slice(0, -1).every((r) => r.status === 404)).toBe(true);
    // B sees the same empty bucket: with a bucket of its own (100 tokens) none of these 50 would
    // be refused; shared, only the tokens refilled meanwhile (10/s) get through.
    const onB: number[] = [];
    for (let i = 0; i < 50; i++) onB.push((await put(urlB)).status);
    expect(onB.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(onB.every((s) => s === 429 || s === 404)).toBe(true);
  }, 60_000);
});
