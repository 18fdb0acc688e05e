// The blob store as an operator meets it at boot: real Hearth processes choose the store from the
// environment, log where files go (never a secret), create nothing before the first upload, and
// refuse to start when the store is misconfigured or unusable.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getJson, spawnHearth } from "../helpers/process.ts";
import { startS3rver } from "../helpers/s3rver.ts";

const work = mkdtempSync(join(tmpdir(), "hearth-blobs-boot-"));
const s3 = await startS3rver();
if (!s3) console.warn("[skip] S3 tests of this file: s3rver did not start (reason printed above)");
afterAll(async () => {
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});
const BASE_ENV = { LISTEN_ADDR: "127.0.0.1:0", LOG_LEVEL: "info" };

describe("file storage at boot", () => {
  test("default: local DATA_DIR/files, logged, not created before the first upload", async () => {
    const dataDir = join(work, "local");
    const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: dataDir } });
    try {
      const url = await hearth.ready();
      expect((await getJson(`${url}/health`)).status).toBe(200);
      expect(hearth.output()).toContain(`"file_storage":"local ${join(dataDir, "files")}"`);
      expect(existsSync(join(dataDir, "files"))).toBe(false);
    } finally {
      await hearth.stop();
    }
  }, 120_000);

  test("an unusable local directory stops the boot with the reason", async () => {
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: join(work, "unusable"), FILE_STORAGE_PATH: join(file, "files") } });
    expect(await hearth.exited).toBe(1);
    expect(hearth.output()).toContain(`File storage local ${join(file, "files")} is not usable`);
  }, 60_000);

  test("S3 settings without FILE_STORAGE_URL stop the boot with the configuration listing, secret not echoed", async () => {
    const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: join(work, "half"), S3_ENDPOINT: "http://127.0.0.1:9", S3_SECRET_ACCESS_KEY: "boot-secret-0123456789" } });
    expect(await hearth.exited).toBe(1);
    expect(hearth.output()).toContain("Invalid configuration");
    expect(hearth.output()).toContain("S3_ENDPOINT, S3_SECRET_ACCESS_KEY are set but FILE_STORAGE_URL is not");
    expect(hearth.output()).not.toContain("boot-secret-0123456789");
  }, 60_000);

  if (!s3) test.skip("S3 boots (s3rver did not start: see the [skip] line above)", () => {});
  else {
    test("FILE_STORAGE_URL=s3://… boots against the bucket and logs endpoint/bucket/prefix, never the secret", async () => {
      const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: join(work, "s3"), ...s3.env("boot") } });
      try {
        const url = await hearth.ready();
        expect((await getJson(`${url}/health`)).status).toBe(200);
        expect(hearth.output()).toContain(`"file_storage":"s3 ${s3.endpoint}/${s3.bucket}/boot/"`);
        expect(hearth.output()).not.toContain(s3.secretAccessKey);
      } finally {
        await hearth.stop();
      }
    }, 120_000);

    test("an S3 store that refuses the key stops the boot, naming the S3 error but not the secret", async () => {
      const hearth = spawnHearth({ env: { ...BASE_ENV, DATA_DIR: join(work, "s3-wrong"), ...s3.env("boot"), S3_ACCESS_KEY_ID: "unknown-key" } });
      expect(await hearth.exited).toBe(1);
      expect(hearth.output()).toContain(`File storage s3 ${s3.endpoint}/${s3.bucket}/boot/ is not usable: InvalidAccessKeyId`);
      expect(hearth.output()).not.toContain(s3.secretAccessKey);
    }, 60_000);
  }
});
