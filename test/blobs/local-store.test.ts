// The local blob store: the shared contract, plus what only a directory tree has (modes, layout,
// lazy creation, symlinks never followed out of the root, crash leftovers swept).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BlobNotFoundError, BlobStoreUnavailableError, LocalBlobStore, newBlobId, type BlobId } from "../../src/blobs/index.ts";
import { createLogger } from "../../src/log.ts";
import { bytes, describeBlobStoreContract, readAll } from "./contract.ts";

const work = mkdtempSync(join(tmpdir(), "hearth-blobs-local-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(work, "files");
const store = new LocalBlobStore(root);

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [relative(root, path) + "/", ...walk(path)] : [relative(root, path)];
  });
}
const filesUnder = (dir: string) => walk(dir).filter((n) => !n.endsWith("/"));

describeBlobStoreContract("local", {
  store: () => store,
  visibleNames: async () => filesUnder(root).sort(),
  // Lead over the temp file being written, sampled at each pull: the bytes the disk has.
  async measureLead(write) {
    const tmp = join(root, ".tmp");
    const onDisk = () => readdirSync(tmp).reduce((sum, name) => sum + (statSync(join(tmp, name), { throwIfNoEntry: false })?.size ?? 0), 0);
    let lead = 0;
    await write((pulled) => {
      lead = Math.max(lead, pulled - onDisk());
    });
    return lead;
  },
  // One chunk of the body in hand while the previous one is written.
  maxLeadBytes: 2 * 64 * 1024,
  largeBytes: 20 * 1024 * 1024,
  atomicReplace: true,
});

describe("local blob store: the directory tree", () => {
  test("nothing is created until the first write; then 0700 directories, 0600 files, <root>/ab/cd/<id>/0000", async () => {
    const lazyRoot = join(work, "lazy", "files");
    const lazy = new LocalBlobStore(lazyRoot);
    await lazy.checkHealth();
    expect(await lazy.statBlob(newBlobId())).toBeUndefined();
    expect(await lazy.listBlobs({ limit: 10 })).toEqual({ blobs: [], next: undefined });
    expect(await lazy.sweepTemporaries(0)).toBe(0);
    expect(existsSync(lazyRoot)).toBe(false);
    const id = newBlobId();
    await lazy.writePart(id, 0, bytes(10));
    await lazy.writePart(id, 1, bytes(10));
    const dir = join(lazyRoot, id.slice(0, 2), id.slice(2, 4), id);
    expect(readdirSync(dir).sort()).toEqual(["0000", "0001"]);
    for (const path of [lazyRoot, join(lazyRoot, ".tmp"), join(lazyRoot, id.slice(0, 2)), join(lazyRoot, id.slice(0, 2), id.slice(2, 4)), dir]) {
      expect({ path, mode: (statSync(path).mode & 0o777).toString(8) }).toEqual({ path, mode: "700" });
    }
    expect((statSync(join(dir, "0000")).mode & 0o777).toString(8)).toBe("600");
    expect(readdirSync(join(lazyRoot, ".tmp"))).toEqual([]);
  });

  test("shards come from the random id, not from time: 64 ids spread over many first-level shards", () => {
    const shards = new Set(Array.from({ length: 64 }, () => newBlobId().slice(0, 2)));
    expect(shards.size).toBeGreaterThan(32);
  });

  describe("symlinks below the root are refused, never followed", () => {
    const outside = join(work, "outside");
    mkdirSync(outside, { recursive: true });
    const secret = Buffer.from("outside-the-root: must never be served or deleted");

    test("a shard directory replaced by a link: writes fail and nothing lands outside; reads and deletes find nothing", async () => {
      const id = newBlobId();
      const [a, b] = [id.slice(0, 2), id.slice(2, 4)];
      // The outside tree looks exactly like a blob of this id.
      mkdirSync(join(outside, b, id), { recursive: true });
      writeFileSync(join(outside, b, id, "0000"), secret);
      mkdirSync(root, { recursive: true });
      rmSync(join(root, a), { recursive: true, force: true });
      symlinkSync(outside, join(root, a));
      try {
        expect(await store.writePart(id, 1, bytes(10)).catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
        expect(existsSync(join(outside, b, id, "0001"))).toBe(false);
        expect(await store.statBlob(id).catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
        expect(await store.readBlob(id).catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
        expect(await store.deleteBlob(id).catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
        expect((await store.listBlobs({ limit: 1000 })).blobs.map((s) => s.id)).not.toContain(id);
        expect(readFileSync(join(outside, b, id, "0000"))).toEqual(secret);
      } finally {
        rmSync(join(root, a));
      }
    });

    test("a part file replaced by a link to an outside file is not served", async () => {
      const id = newBlobId() as BlobId;
      await store.writePart(id, 0, bytes(10));
      const dir = join(root, id.slice(0, 2), id.slice(2, 4), id);
      writeFileSync(join(outside, "target"), secret);
      rmSync(join(dir, "0000"));
      symlinkSync(join(outside, "target"), join(dir, "0000"));
      expect(await store.statBlob(id)).toBeUndefined();
      expect(await store.readBlob(id).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
      // Even with a stat that claims the part exists, O_NOFOLLOW refuses to open it.
      const claimed = { id, size: secret.length, parts: [{ index: 0, size: secret.length }], modifiedAt: new Date() };
      expect(await store.readBlob(id, { stat: claimed }).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
      await store.deleteBlob(id);
      expect(readFileSync(join(outside, "target"))).toEqual(secret);
      expect(lstatSync(outside).isDirectory()).toBe(true);
    });
  });

  test("a truncated part file (disk damage) errors the stream instead of serving a shorter file", async () => {
    const id = newBlobId();
    await store.writePart(id, 0, bytes(300_000));
    const stat = (await store.statBlob(id))!;
    writeFileSync(join(root, id.slice(0, 2), id.slice(2, 4), id, "0000"), bytes(1000));
    const error = await store.readBlob(id, { stat }).then(readAll).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("BLOB_DAMAGED");
  });

  test("temporaries left by a crash are swept once older than the bound; fresh ones stay", async () => {
    const tmp = join(root, ".tmp");
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, "old-write"), "x");
    mkdirSync(join(tmp, "old-delete"));
    writeFileSync(join(tmp, "old-delete", "0000"), "x");
    writeFileSync(join(tmp, "fresh-write"), "x");
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(tmp, "old-write"), hourAgo, hourAgo);
    utimesSync(join(tmp, "old-delete"), hourAgo, hourAgo);
    expect(await store.sweepTemporaries(30 * 60_000)).toBe(2);
    expect(readdirSync(tmp)).toEqual(["fresh-write"]);
    rmSync(join(tmp, "fresh-write"));
  });

  test("an unusable root makes the health check fail with 503, logged with the reason", async () => {
    const file = join(work, "not-a-dir");
    writeFileSync(file, "x");
    const logs: string[] = [];
    const broken = new LocalBlobStore(join(file, "files"), createLogger("debug", {}, (line) => logs.push(line)));
    const error = await broken.checkHealth().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobStoreUnavailableError);
    expect((error as BlobStoreUnavailableError).status).toBe(503);
    expect(await broken.writePart(newBlobId(), 0, bytes(1)).catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
    expect(logs.some((line) => line.includes("blobs.storage_error") && line.includes("ENOTDIR"))).toBe(true);
  });
});
