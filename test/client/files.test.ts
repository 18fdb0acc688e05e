/**
 * The files client library (src/client/files) against the real server over HTTP: encrypt and
 * upload in parts, the connection drops in the middle of a part, the upload resumes without
 * re-sending acknowledged parts, the download decrypts to the same SHA-256. Local store, and the
 * S3 store through s3rver (skipped with a printed reason when it cannot start).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../helpers/app.ts";
import { listen } from "../helpers/ws.ts";
import { startS3rver } from "../helpers/s3rver.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { messagingContext, populatedCommunity, send, type Populated } from "../features/messages/helpers.ts";
import { downloadFile, resumeUpload, uploadFile, type FilesApi, type UploadState } from "../../src/client/files/index.ts";

const s3 = await startS3rver();
if (!s3) console.warn("[skip] S3 part of the files client test: s3rver did not start (reason printed above)");
afterAll(async () => {
  await s3?.stop();
});

const MARKER = `CLIENTMARKER-${crypto.randomUUID()}`;

/** ~3 MB of plaintext with markers, 64 KiB chunks, 4 chunks per part: 12 parts. */
function plaintext(): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(3 * 1024 * 1024 + 12345);
  crypto.getRandomValues(out.subarray(0, 65536));
  for (let i = 65536; i < out.length; i += 65536) out.copyWithin(i, 0, Math.min(65536, out.length - i));
  const marker = new TextEncoder().encode(MARKER);
  for (let i = 1000; i + marker.length < out.length; i += 100_000) out.set(marker, i);
  return out;
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function suite(name: string, kind: "local" | "s3", env: () => Record<string, string>) {
  describe(name, () => {
    let ctx: TestContext;
    let p: Populated;
    let base: string;
    beforeAll(async () => {
      ctx = await messagingContext({ env: env() });
      p = await populatedCommunity(ctx);
      base = (await listen(ctx)).http;
    }, 60_000);
    afterAll(async () => {
      await ctx.app.stop(true);
      await ctx.close();
    });

    test("upload, drop mid-part, resume without re-sending acknowledged parts, download: same SHA-256", async () => {
      expect(ctx.deps.blobs!.kind).toBe(kind);
      const bytes = plaintext();
      const file = new Blob([bytes]);
      const sentParts: number[] = [];
      let dropped = false;
      // A fetch that records each part PUT and breaks part 5's body half-way, like a lost connection.
      const recording: typeof fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const m = /\/parts\/(\d+)$/.exec(String(input));
        if (m && init?.method === "PUT") {
          const part = Number(m[1]);
          sentParts.push(part);
          if (part === 5 && !dropped) {
            dropped = true;
            const body = new Uint8Array(await (init.body as Blob).arrayBuffer());
            const half = new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(body.subarray(0, body.length >> 1));
              },
              pull(controller) {
                controller.error(new Error("connection dropped"));
              },
            });
            return fetch(input, { ...init, body: half, duplex: "half" } as RequestInit);
          }
        }
        return fetch(input, init);
      }) as typeof fetch;
      const api: FilesApi = { base, headers: { authorization: p.member.headers.authorization! }, fetch: recording };
      let state: UploadState | undefined;
      const progress: number[] = [];
      const first = await uploadFile(api, { channelId: p.generalChannelId, file }, { chunksPerPart: 4, onStart: (s) => (state = s), onProgress: (n) => progress.push(n) }).catch((error: Error) => error);
      expect(first).toBeInstanceOf(Error);
      expect(sentParts).toEqual([0, 1, 2, 3, 4, 5]);
      expect(progress.length).toBe(5);
      // The session id came back with the start; the library's caller keeps the state for resume.
      const status = await (await fetch(`${base}/api/files/quota`, { headers: { authorization: api.headers!.authorization! } })).json();
      expect(status.used_bytes).toBeGreaterThan(bytes.length);
      const sessions = await ctx.database.db.selectFrom("files").select("id").where("uploader_id", "=", p.member.user.id).execute();
      expect(sessions.length).toBe(1);
      const acked = await ctx.database.db.selectFrom("file_parts").select("part").where("file_id", "=", sessions[0]!.id).orderBy("part").execute();
      expect(acked.map((r) => r.part)).toEqual([0, 1, 2, 3, 4]);
      expect(state?.id).toBe(sessions[0]!.id);
      sentParts.length = 0;
      await resumeUpload(api, state!, file);
      expect(sentParts).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
      await send(p.member, p.generalChannelId, { file_ids: [state!.id] });
      // Another channel member downloads and decrypts.
      const reader: FilesApi = { base, headers: { authorization: p.admin.headers.authorization! } };
      const got = await readAll(await downloadFile(reader, { id: state!.id, key: state!.key, header: state!.header }));
      expect([got.length, sha256(got)]).toEqual([bytes.length, sha256(bytes)]);
      // The server's stores hold ciphertext only.
      const control = `CONTROL-${crypto.randomUUID()}`;
      ctx.deps.log.info("control", { control });
      const scan = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: [MARKER], control, blobs: ctx.config.files.storage, s3ServerDirectory: s3 && ctx.config.files.storage.kind === "s3" ? s3.directory : undefined });
      expect(scan.hits).toEqual([]);
    });

    test("a damaged blob or a wrong key fails decryption instead of yielding bytes", async () => {
      const bytes = new Uint8Array(200_000);
      crypto.getRandomValues(bytes);
      const api: FilesApi = { base, headers: { authorization: p.member.headers.authorization! } };
      const state = await uploadFile(api, { channelId: p.generalChannelId, file: new Blob([bytes]) }, { chunksPerPart: 1 });
      const right = await readAll(await downloadFile(api, { id: state.id, key: state.key, header: state.header }));
      expect(sha256(right)).toBe(sha256(bytes));
      const wrongKey = { id: state.id, key: crypto.getRandomValues(new Uint8Array(32)), header: state.header };
      expect(readAll(await downloadFile(api, wrongKey))).rejects.toThrow();
      // One flipped bit in the stored part 1 (in the store the test context opened: local or S3).
      const row = await ctx.database.db.selectFrom("files").select("blob_id").where("id", "=", state.id).executeTakeFirstOrThrow();
      const blobs = ctx.deps.blobs!;
      const blobId = row.blob_id as Parameters<typeof blobs.readBlob>[0];
      const part1 = await readAll(await blobs.readBlob(blobId, { start: 65536 + 16, end: 2 * (65536 + 16) }));
      part1[100]! ^= 1;
      await blobs.writePart(blobId, 1, part1);
      expect(readAll(await downloadFile(api, { id: state.id, key: state.key, header: state.header }))).rejects.toThrow();
    });
  });
}

suite("files client, local store", "local", () => ({}));

describe.skipIf(!s3)("S3 (s3rver)", () => {
  suite("files client, S3 store", "s3", () => s3!.env("files/"));
});
