// The plaintext scan reaches the blob store: a control value stored as a blob is found in the
// local directory, in the S3 bucket's objects and in s3rver's own files, in every encoding the
// scan knows; a marker never stored is not. (Later tests upload encrypted files and expect no hit.)
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBlobStore, newBlobId, type BlobStore } from "../../src/blobs/index.ts";
import type { FileStorage } from "../../src/config.ts";
import { createTestContext } from "../helpers/app.ts";
import { encodingsOf, scanBlobStore, scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { startS3rver } from "../helpers/s3rver.ts";

const work = mkdtempSync(join(tmpdir(), "hearth-blobs-scan-"));
const s3 = await startS3rver();
if (!s3) console.warn("[skip] S3 tests of this file: s3rver did not start (reason printed above)");
afterAll(async () => {
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

const control = `CONTROL-${crypto.randomUUID()}`;
const absent = `MARKER-${crypto.randomUUID()}`;

/** Stores the control in several encodings across two parts of one blob, and noise in another. */
async function storeControl(store: BlobStore) {
  const id = newBlobId();
  await store.writePart(id, 0, Buffer.from(`prefix ${control} suffix`));
  await store.writePart(id, 1, Buffer.from(Buffer.from(control).toString("base64")));
  await store.writePart(newBlobId(), 0, crypto.getRandomValues(new Uint8Array(50_000)));
}

// "blobs ab/cd/<id>/0000" -> "blobs local"; "blobs s3:<key>" -> "blobs s3"; "blobs s3-server <path>" -> "blobs s3-server".
const sourceOf = (what: string) => (what.startsWith("blobs s3-server ") ? "blobs s3-server" : what.startsWith("blobs s3:") ? "blobs s3" : "blobs local");

async function scanStore(storage: FileStorage, s3ServerDirectory?: string) {
  const found = new Map<string, Set<string>>();
  const needles = [...encodingsOf(control).slice(0, 1), encodingsOf(control)[3]!, ...encodingsOf(absent)];
  await scanBlobStore(storage, (what, haystack) => {
    for (const needle of needles) if (haystack.includes(needle.bytes)) found.set(needle.label, (found.get(needle.label) ?? new Set()).add(sourceOf(what)));
  }, { s3ServerDirectory });
  return found;
}

describe("plaintext scan of the blob store", () => {
  test("local directory", async () => {
    const path = join(work, "files");
    await storeControl(new LocalBlobStore(path));
    const found = await scanStore({ kind: "local", path });
    expect([...found.keys()].sort()).toEqual([`${control} (base64, offset 0)`, `${control} (utf-8)`]);
    expect([...found.get(`${control} (utf-8)`)!]).toEqual(["blobs local"]);
  });

  if (!s3) test.skip("S3 bucket (s3rver did not start: see the [skip] line above)", () => {});
  else {
    test("S3 bucket objects and the S3 server's own files", async () => {
      const { openBlobStore } = await import("../../src/blobs/index.ts");
      await storeControl(openBlobStore(s3.storage("scan/")));
      const found = await scanStore(s3.storage("scan/"), s3.directory);
      expect([...found.keys()].sort()).toEqual([`${control} (base64, offset 0)`, `${control} (utf-8)`]);
      expect([...found.get(`${control} (utf-8)`)!].sort()).toEqual(["blobs s3", "blobs s3-server"]);
    });

    test("scanForPlaintext with the app's store (deps.blobs on S3): control found as blobs, nothing else", async () => {
      const ctx = await createTestContext({ env: s3.env("app-scan") });
      try {
        expect(ctx.deps.blobs?.kind).toBe("s3");
        await ctx.deps.blobs!.writePart(newBlobId(), 0, Buffer.from(`stored on purpose: ${control}`));
        const result = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: [absent], control, blobs: ctx.config.files.storage, s3ServerDirectory: s3.directory });
        expect(result.hits).toEqual([]);
        expect(result.controlFoundIn.has("blobs")).toBe(true);
      } finally {
        await ctx.close();
      }
    });
  }
});
