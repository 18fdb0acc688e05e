/**
 * Issue 12 acceptance: a 100 MB file through the documented nginx configuration
 * (docs/operations.md, its TLS server block, test/helpers/nginx.ts) in front of a real Hearth
 * process. Alice encrypts and uploads it in 4 MiB parts with the client library, sends it in a
 * message; Bob downloads the ciphertext (equal SHA-256 to what Alice sent) and downloads and
 * decrypts it (equal SHA-256 to Alice's file). The server's RSS growth during the upload and the
 * download is measured from a collected baseline (test/helpers/files-process.ts), printed, and
 * held to the budget: less than 50 MiB (measured +0 to +30 MiB; before the collection
 * nudge in src/blobs/streams.ts a download grew it by about +100 MiB).
 * Skipped with a printed reason when nginx is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { downloadFile, uploadFile, type FilesApi, type UploadState } from "../../../src/client/files/index.ts";
import { fmtMiB, hashStream, MiB, rssGrowthDuring, sendFiles, setUpAliceAndBob, spawnGcHearth, writeRandomFile, type AliceAndBob } from "../../helpers/files-process.ts";
import { haveNginx, insecureFetch, startDocumentedNginx, type TestNginx } from "../../helpers/nginx.ts";
import type { HearthProcess } from "../../helpers/process.ts";

if (!haveNginx) console.log("[skip] 100 MB through the documented nginx config: nginx is not installed (apt-get install nginx-light)");

const SIZE = 100 * MiB;
/** The budget for the server's RSS growth during a 100 MB transfer. */
const RSS_BUDGET = 50 * MiB;
const SETUP_TOKEN = "files-nginx-setup-token";

const work = mkdtempSync(join(tmpdir(), "hearth-files-nginx-"));
let hearth: HearthProcess | undefined;
let nginx: TestNginx | undefined;
let direct = "";
let p: AliceAndBob;

beforeAll(async () => {
  if (!haveNginx) return;
  hearth = spawnGcHearth({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: join(work, "data"), SETUP_TOKEN, REGISTRATION_MODE: "open", COMMUNITY_CREATION_MODE: "anyone", MAX_FILE_SIZE_MB: "110", UPLOAD_QUOTA_MB: "0" });
  direct = await hearth.ready(120_000);
  nginx = await startDocumentedNginx(Number(new URL(direct).port));
  p = await setUpAliceAndBob(nginx.url, SETUP_TOKEN, insecureFetch);
}, 180_000);

afterAll(async () => {
  await nginx?.stop();
  await hearth?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!haveNginx)("a 100 MB file through the documented nginx config", () => {
  test("Bob's SHA-256 equals Alice's (ciphertext and plaintext); the server's RSS grows by less than 50 MiB", async () => {
    const source = join(work, "source.bin");
    const plainSha = await writeRandomFile(source, SIZE);
    // Alice's side: the ciphertext she sends, hashed part by part as it leaves.
    const sent = new Bun.CryptoHasher("sha256");
    const aliceFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === "PUT" && init.body instanceof Blob) sent.update(new Uint8Array(await init.body.arrayBuffer()));
      return insecureFetch(input, init);
    }) as typeof fetch;
    const aliceApi: FilesApi = { base: nginx!.url, headers: p.alice.headers, fetch: aliceFetch };
    const up = await rssGrowthDuring(hearth!, () => uploadFile(aliceApi, { channelId: p.channelId, file: Bun.file(source) }, { chunksPerPart: 64 }));
    const state: UploadState = up.value;
    await sendFiles(nginx!.url, p, [state.id], insecureFetch);

    const bobApi: FilesApi = { base: nginx!.url, headers: p.bob.headers, fetch: insecureFetch };
    const raw = await rssGrowthDuring(hearth!, async () => {
      const res = await insecureFetch(`${nginx!.url}/api/files/${state.id}`, { headers: p.bob.headers });
      expect(res.status).toBe(200);
      return hashStream(res.body!);
    });
    const plain = await rssGrowthDuring(hearth!, async () => hashStream(await downloadFile(bobApi, { id: state.id, key: state.key, header: state.header })));

    console.log(
      `100 MB through nginx: server RSS growth — upload peak +${fmtMiB(up.growth.peak)} (retained ${fmtMiB(up.growth.retained)}), ` +
        `ciphertext download peak +${fmtMiB(raw.growth.peak)} (retained ${fmtMiB(raw.growth.retained)}), ` +
        `download + decrypt peak +${fmtMiB(plain.growth.peak)} (retained ${fmtMiB(plain.growth.retained)})`,
    );
    expect([raw.value.length, raw.value.sha256]).toEqual([state.size, sent.digest("hex")]);
    expect([plain.value.length, plain.value.sha256]).toEqual([SIZE, plainSha]);
    for (const growth of [up.growth, raw.growth, plain.growth]) expect(growth.peak).toBeLessThan(RSS_BUDGET);
  }, 300_000);
});
