/**
 * File transfer through the full stack (issue 12, docs/files.md) against a real server process
 * on loopback, compared with a plain copy of the same file on the same disk measured in the same
 * run. Prints MB/s, the ratio to the copy's time, and the server's peak RSS growth per phase:
 *
 *   - ciphertext upload: start a session, PUT the parts (4 MiB) over HTTP into the blob store;
 *   - ciphertext download: GET the whole file;
 *   - client library: encrypt + upload in parts (src/client/files), download + decrypt (the
 *     AES-GCM of both sides runs in this process, like a browser would), SHA-256 compared.
 *
 *   bun scripts/bench/files.ts [--mb 100] [--part-chunks 64] [--s3] [--nginx]
 *
 * --part-chunks: 64 KiB chunks per part (64 = 4 MiB + 1 KiB, the client library's default).
 *
 * --nginx sends every request through nginx configured with docs/operations.md's TLS server block
 * (test/helpers/nginx.ts); the client's TLS costs time here, not the server's.
 *
 * Server RSS: the server runs under test/helpers/hearth-gc-main.ts; before each phase it runs a
 * full collection (SIGUSR2), so "peak" is the phase's growth over a collected baseline (sampled
 * every 10 ms) and "retained" what is still held after the next full collection.
 *
 * --s3 stores the files in s3rver (a JavaScript S3 emulator on loopback: its figures bound
 * Hearth's side from below, they are not S3's or MinIO's).
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rssGrowthDuring, rssOf, spawnGcHearth } from "../../test/helpers/files-process.ts";
import { startS3rver } from "../../test/helpers/s3rver.ts";
import { haveNginx, insecureFetch, startDocumentedNginx, type TestNginx } from "../../test/helpers/nginx.ts";
import { downloadFile, uploadFile, type FilesApi } from "../../src/client/files/index.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg("mb", 100);
const SIZE = MB * 1024 * 1024;
const CHUNK = 65536;
const PART_CHUNKS = arg("part-chunks", 64);
const PART = PART_CHUNKS * (CHUNK + 16);
const useS3 = process.argv.includes("--s3");
const viaNginx = process.argv.includes("--nginx");

// The server serves pages: a fresh clone has no public/build yet.
{
  const { ensureClientBuild } = await import("../build.ts");
  await ensureClientBuild();
}
const work = mkdtempSync(join(tmpdir(), "hearth-bench-files-"));
const source = join(work, "source.bin");
{
  const writer = Bun.file(source).writer();
  const block = new Uint8Array(1024 * 1024);
  for (let i = 0; i < MB; i++) {
    for (let at = 0; at < block.length; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
    writer.write(block);
  }
  await writer.end();
}

type Figure = { label: string; seconds: number; peakMiB: number; retainedMiB: number };

/**
 * The server's peak RSS growth during `fn` over a collected baseline, and what it still holds
 * after the next full collection (the server runs under test/helpers/hearth-gc-main.ts).
 */
async function measure(label: string, server: boolean, fn: () => Promise<unknown>): Promise<Figure> {
  if (!server) {
    const started = performance.now();
    await fn();
    return { label, seconds: (performance.now() - started) / 1000, peakMiB: 0, retainedMiB: 0 };
  }
  let seconds = 0;
  const { growth } = await rssGrowthDuring(hearth, async () => {
    const started = performance.now();
    await fn();
    seconds = (performance.now() - started) / 1000;
  });
  return { label, seconds, peakMiB: growth.peak / 1048576, retainedMiB: growth.retained / 1048576 };
}

const s3 = useS3 ? await startS3rver() : undefined;
if (useS3 && !s3) {
  console.log("--s3: s3rver did not start (reason above); measuring the local store only");
}
const dataDir = join(work, "data");
const SETUP_TOKEN = "bench-files-setup-token";
const hearth = spawnGcHearth({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, SETUP_TOKEN, LOG_LEVEL: "info", MAX_FILE_SIZE_MB: String(MB + 10), UPLOAD_QUOTA_MB: "0", COMMUNITY_CREATION_MODE: "anyone", ...(s3 ? s3.env("bench/") : {}) });
const figures: Figure[] = [];
let proxy: TestNginx | undefined;
try {
  const direct = await hearth.ready(120_000);
  const pid = hearth.proc.pid;
  if (viaNginx && haveNginx) proxy = await startDocumentedNginx(Number(new URL(direct).port));
  else if (viaNginx) console.log("--nginx: nginx is not installed; measuring direct");
  const url = proxy?.url ?? direct;
  const f = proxy ? insecureFetch : fetch;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await f(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const reg = await post("/api/auth/register", { username: "bench", email: "bench@example.test", password: "Bench password 1234 long", setup_token: SETUP_TOKEN });
  const auth = { authorization: `Bearer ${reg.access_token}` };
  const community = await post("/api/communities", { name: "Bench" }, auth);
  const groups = (await (await f(`${url}/api/communities/${community.id}/groups`, { headers: auth })).json()) as any;
  const channelId = groups.groups[0].channels[0].id as string;

  // Warm-up (not measured): the first transfer's allocations (TLS, the first parts' buffers,
  // database pages) would otherwise count against the first phase, or hide in its baseline.
  await uploadFile({ base: url, headers: auth, fetch: f }, { channelId, file: Bun.file(source).slice(0, 8 * 1024 * 1024) }, { chunksPerPart: PART_CHUNKS });

  figures.push(await measure("plain file copy (copyFile)", false, async () => copyFileSync(source, join(work, "copy.bin"))));

  let fileId = "";
  figures.push(
    await measure(`ciphertext upload (session + ${PART_CHUNKS / 16} MiB parts)`, true, async () => {
      const { upload } = await post("/api/files/uploads", { channel_id: channelId, size: SIZE, part_size: PART, chunk_size: CHUNK }, auth);
      fileId = upload.id;
      for (let part = 0; part < upload.part_count; part++) {
        const body = Bun.file(source).slice(part * PART, Math.min(SIZE, (part + 1) * PART));
        const res = await f(`${url}/api/files/uploads/${fileId}/parts/${part}`, { method: "PUT", headers: { ...auth, "content-type": "application/octet-stream" }, body });
        if (!res.ok) throw new Error(`part ${part}: ${res.status} ${await res.text()}`);
      }
    }),
  );
  figures.push(
    await measure("ciphertext download (GET whole)", true, async () => {
      const res = await f(`${url}/api/files/${fileId}`, { headers: auth });
      let total = 0;
      for await (const chunk of res.body! as unknown as AsyncIterable<Uint8Array>) total += chunk.byteLength;
      if (total !== SIZE) throw new Error(`downloaded ${total} of ${SIZE}`);
    }),
  );
  const api: FilesApi = { base: url, headers: auth, fetch: f };
  let state: Awaited<ReturnType<typeof uploadFile>> | undefined;
  figures.push(
    await measure("client library: encrypt + upload", true, async () => {
      state = await uploadFile(api, { channelId, file: Bun.file(source) }, { chunksPerPart: PART_CHUNKS });
    }),
  );
  let digest = "";
  figures.push(
    await measure("client library: download + decrypt", true, async () => {
      const hasher = new Bun.CryptoHasher("sha256");
      for await (const chunk of (await downloadFile(api, state!)) as unknown as AsyncIterable<Uint8Array>) hasher.update(chunk);
      digest = hasher.digest("hex");
    }),
  );
  const expected = new Bun.CryptoHasher("sha256").update(await Bun.file(source).arrayBuffer()).digest("hex");
  const copy = figures[0]!.seconds;
  console.log(`files through the full stack: ${MB} MB, store ${s3 ? "s3 (s3rver)" : "local"}, ${proxy ? "through nginx (docs/operations.md, TLS)" : "direct"}, server RSS at start ${(rssOf(pid) / 1048576).toFixed(0)} MiB`);
  for (const f of figures) {
    console.log(`${f.label.padEnd(44)} ${(MB / f.seconds).toFixed(0).padStart(6)} MB/s  ${f.seconds.toFixed(2).padStart(6)} s  ×${(f.seconds / copy).toFixed(1).padStart(5)} copy time  ${f === figures[0] ? "" : `server RSS peak +${f.peakMiB.toFixed(1)} MiB, retained +${f.retainedMiB.toFixed(1)} MiB`}`);
  }
  console.log(`SHA-256 after download + decrypt ${digest === expected ? "equals" : "DIFFERS FROM"} the source`);
} finally {
  await proxy?.stop();
  await hearth.stop();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
}
