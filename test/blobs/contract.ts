/**
 * The behaviour every BlobStore promises (src/blobs/store.ts), run against each implementation:
 * local-store.test.ts and s3-store.test.ts call `describeBlobStoreContract` with their store.
 * `visibleNames` lists everything the backend holds (files under the root, keys in the bucket),
 * so "an aborted write leaves nothing visible" is checked below the interface, not through it.
 */
import { describe, expect, test } from "bun:test";
import {
  BlobDamagedError, BlobNotFoundError, BlobRangeError, BlobTooLargeError, InvalidPartError, newBlobId, type BlobId, type BlobStore,
} from "../../src/blobs/index.ts";

export type ContractTarget = {
  store(): BlobStore;
  /** Every stored name (relative path or key), including temporaries. */
  visibleNames(): Promise<string[]>;
  /**
   * Runs `write` (which calls `onPull` each time the store takes a chunk of the body) and returns
   * how far the store read ahead of what the backend had accepted: at most its memory per write.
   */
  measureLead(write: (onPull: (pulled: number) => void) => Promise<void>): Promise<number>;
  /** The bound measureLead must stay under. */
  maxLeadBytes: number;
  /** Whether two concurrent writes of one part end as one of them whole (false: why not, printed). */
  atomicReplace: true | string;
  /** Size of the large streamed write: well above maxLeadBytes, so buffering it whole would show. */
  largeBytes: number;
};

export const bytes = (length: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
};

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** A body produced chunk by chunk only when the store pulls it; `pulled` counts what it took. */
export function lazyBody(total: number, chunkSize = 64 * 1024, seed = 7, onPull?: (pulled: number) => void) {
  const state = { pulled: 0, hasher: new Bun.CryptoHasher("sha256") };
  const chunk = bytes(chunkSize, seed);
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled >= total) return controller.close();
        const next = chunk.slice(0, Math.min(chunkSize, total - state.pulled));
        // Vary each chunk so a misplaced chunk changes the hash.
        next[0] = (state.pulled / chunkSize) & 0xff;
        state.pulled += next.byteLength;
        state.hasher.update(next);
        onPull?.(state.pulled);
        controller.enqueue(next);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

/** A body that errors after `failAfter` bytes, like a client that went away. */
export function failingBody(failAfter: number, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= failAfter) return controller.error(new Error("client went away"));
      sent += chunkSize;
      controller.enqueue(bytes(chunkSize, sent));
    },
  });
}

export function describeBlobStoreContract(name: string, target: ContractTarget) {
  const store = () => target.store();

  describe(`${name}: blob store contract`, () => {
    test("a part written is read back whole, with its size in stat", async () => {
      const id = newBlobId();
      const data = bytes(100_000);
      expect(await store().writePart(id, 0, data)).toEqual({ index: 0, size: 100_000 });
      const stat = await store().statBlob(id);
      expect(stat).toMatchObject({ id, size: 100_000, parts: [{ index: 0, size: 100_000 }] });
      expect(Math.abs(stat!.modifiedAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      expect(sha256(await readAll(await store().readBlob(id)))).toBe(sha256(data));
    });

    test("parts read back as one stream; ranges map across part boundaries", async () => {
      const id = newBlobId();
      const parts = [bytes(1000, 1), bytes(1, 2), bytes(0, 3), bytes(70_000, 4)];
      for (const [i, part] of parts.entries()) await store().writePart(id, i, part);
      const whole = Buffer.concat(parts);
      const stat = (await store().statBlob(id))!;
      expect(stat.parts).toEqual([{ index: 0, size: 1000 }, { index: 1, size: 1 }, { index: 2, size: 0 }, { index: 3, size: 70_000 }]);
      expect(stat.size).toBe(whole.length);
      expect(Buffer.from(await readAll(await store().readBlob(id))).equals(whole)).toBe(true);
      for (const [start, end] of [[0, 1], [10, 999], [999, 1002], [500, 60_000], [1001, 1001], [0, whole.length], [71_000, whole.length]]) {
        const got = await readAll(await store().readBlob(id, { start, end }));
        expect({ start, end, same: Buffer.from(got).equals(whole.subarray(start, end)) }).toEqual({ start, end, same: true });
      }
      expect((await readAll(await store().readBlob(id, { start: 70_500 }))).length).toBe(whole.length - 70_500);
      // The caller's stat (from its database) saves the listing and gives the same bytes.
      expect(Buffer.from(await readAll(await store().readBlob(id, { start: 5, end: 1500, stat }))).equals(whole.subarray(5, 1500))).toBe(true);
    });

    test("a range outside the blob is refused with 416 before any byte", async () => {
      const id = newBlobId();
      await store().writePart(id, 0, bytes(100));
      for (const [start, end] of [[0, 101], [101, 101], [-1, 10], [50, 40], [0.5, 10]]) {
        const error = await store().readBlob(id, { start, end }).catch((e: unknown) => e);
        expect({ start, end, error: error instanceof BlobRangeError && error.status === 416 }).toEqual({ start, end, error: true });
      }
    });

    test("unknown and malformed ids are not found, on every operation, and never reach a path or key", async () => {
      const unknown = newBlobId();
      expect(await store().statBlob(unknown)).toBeUndefined();
      expect(await store().readBlob(unknown).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
      await store().deleteBlob(unknown); // idempotent
      for (const bad of ["../../etc/passwd", "..", "", "ABCDEF0123456789ABCDEF0123456789", `${newBlobId()}/0000`, "0".repeat(31), "0".repeat(33), "%2e%2e"]) {
        const id = bad as BlobId;
        const ops: (() => Promise<unknown>)[] = [() => store().statBlob(id), () => store().readBlob(id), () => store().deleteBlob(id), () => store().writePart(id, 0, bytes(1)), () => store().listBlobs({ after: id, limit: 1 })];
        for (const op of ops) {
          expect(await Promise.resolve().then(op).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
        }
      }
      expect(await target.visibleNames()).not.toContainEqual(expect.stringContaining("passwd"));
    });

    test("a stat from the caller for a blob deleted meanwhile: not found, before any byte", async () => {
      const id = newBlobId();
      await store().writePart(id, 0, bytes(1000));
      const stat = (await store().statBlob(id))!;
      await store().deleteBlob(id);
      expect(await store().readBlob(id, { stat }).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
      expect(await store().readBlob(id, { stat, start: 10, end: 20 }).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
    });

    test("part numbers outside 0-9999 are refused", async () => {
      for (const part of [-1, 10_000, 1.5, Number.NaN]) {
        expect(await store().writePart(newBlobId(), part, bytes(1)).catch((e: unknown) => e)).toBeInstanceOf(InvalidPartError);
      }
    });

    test("a missing part in the middle makes the blob damaged, never a shorter file", async () => {
      const id = newBlobId();
      await store().writePart(id, 0, bytes(10));
      await store().writePart(id, 2, bytes(10));
      expect((await store().statBlob(id))!.parts.map((p) => p.index)).toEqual([0, 2]);
      expect(await store().readBlob(id).catch((e: unknown) => e)).toBeInstanceOf(BlobDamagedError);
    });

    test("writing a part again replaces it whole (a retried part after a lost acknowledgement)", async () => {
      const id = newBlobId();
      await store().writePart(id, 0, bytes(5000, 1));
      await store().writePart(id, 0, bytes(3000, 2));
      expect((await store().statBlob(id))!.parts).toEqual([{ index: 0, size: 3000 }]);
      expect(sha256(await readAll(await store().readBlob(id)))).toBe(sha256(bytes(3000, 2)));
    });

    test("over maxBytes: 413 while streaming and nothing stored; exactly maxBytes is fine", async () => {
      const before = await target.visibleNames();
      const id = newBlobId();
      const { body } = lazyBody(300_000);
      const error = await store().writePart(id, 0, body, { maxBytes: 200_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlobTooLargeError);
      expect((error as BlobTooLargeError).status).toBe(413);
      expect(await store().statBlob(id)).toBeUndefined();
      expect(await target.visibleNames()).toEqual(before);
      expect((await store().writePart(id, 0, lazyBody(200_000).body, { maxBytes: 200_000 })).size).toBe(200_000);
    });

    test("an aborted write (client gone, signal) leaves nothing visible and keeps the previous part intact", async () => {
      const id = newBlobId();
      await store().writePart(id, 0, bytes(1000, 9));
      const before = await target.visibleNames();
      expect(await store().writePart(id, 0, failingBody(256 * 1024)).catch((e: unknown) => e)).toBeInstanceOf(Error);
      expect(await store().writePart(id, 1, failingBody(7 * 1024 * 1024)).catch((e: unknown) => e)).toBeInstanceOf(Error);
      const controller = new AbortController();
      const { body } = lazyBody(10_000_000, 64 * 1024, 7, (pulled) => {
        if (pulled > 1_000_000) controller.abort(new Error("session revoked"));
      });
      const aborted = await store().writePart(id, 2, body, { signal: controller.signal }).catch((e: unknown) => e);
      expect(String(aborted)).toContain("session revoked");
      expect(await target.visibleNames()).toEqual(before);
      expect((await store().statBlob(id))!.parts).toEqual([{ index: 0, size: 1000 }]);
      expect(sha256(await readAll(await store().readBlob(id)))).toBe(sha256(bytes(1000, 9)));
    });

    test("delete removes every part and is idempotent", async () => {
      const id = newBlobId();
      const other = newBlobId();
      for (let i = 0; i < 3; i++) await store().writePart(id, i, bytes(100, i));
      await store().writePart(other, 0, bytes(10));
      await store().deleteBlob(id);
      await store().deleteBlob(id);
      expect(await store().statBlob(id)).toBeUndefined();
      expect(await store().readBlob(id).catch((e: unknown) => e)).toBeInstanceOf(BlobNotFoundError);
      expect((await target.visibleNames()).filter((n) => n.includes(id))).toEqual([]);
      expect((await store().statBlob(other))?.size).toBe(10);
    });

    test("listing pages through every blob once, in id order, with parts and sizes", async () => {
      const all: BlobId[] = [];
      let cursor: BlobId | undefined;
      do {
        const page = await store().listBlobs({ after: cursor, limit: 1000 });
        all.push(...page.blobs.map((b) => b.id));
        cursor = page.next;
      } while (cursor);
      for (const id of all) await store().deleteBlob(id);
      const ids = Array.from({ length: 7 }, () => newBlobId());
      for (const [i, id] of ids.entries()) for (let p = 0; p <= i % 3; p++) await store().writePart(id, p, bytes(10 + p, i));
      const seen: { id: BlobId; parts: number; size: number }[] = [];
      const pageSizes: number[] = [];
      cursor = undefined;
      do {
        const page = await store().listBlobs({ after: cursor, limit: 3 });
        pageSizes.push(page.blobs.length);
        seen.push(...page.blobs.map((b) => ({ id: b.id, parts: b.parts.length, size: b.size })));
        cursor = page.next;
      } while (cursor);
      const expected = ids.map((id, i) => ({ id, parts: (i % 3) + 1, size: Array.from({ length: (i % 3) + 1 }, (_, p) => 10 + p).reduce((a, b) => a + b, 0) }));
      expect(seen).toEqual(expected.sort((a, b) => (a.id < b.id ? -1 : 1)));
      expect(pageSizes.slice(0, 2)).toEqual([3, 3]);
      expect(await store().listBlobs({ after: "f".repeat(32) as BlobId, limit: 5 })).toEqual({ blobs: [], next: undefined });
      await expect(store().listBlobs({ limit: 1001 })).rejects.toThrow();
    });

    if (target.atomicReplace !== true) console.log(`[skip] ${name}: the concurrent same-part race (${target.atomicReplace})`);
    test("concurrent writers: different blobs, different parts, and the same part (one whole version wins)", async () => {
      const race = target.atomicReplace === true;
      const ids = Array.from({ length: 8 }, () => newBlobId());
      const shared = newBlobId();
      const a = bytes(300_000, 11);
      const b = bytes(200_000, 12);
      await Promise.all([
        ...ids.map((id, i) => store().writePart(id, 0, lazyBody(150_000 + i, 16 * 1024, i).body)),
        ...[0, 1, 2, 3].map((p) => store().writePart(shared, p, bytes(50_000, p))),
        store().writePart(shared, 4, a),
        race ? store().writePart(shared, 4, b) : Promise.resolve(),
      ]);
      for (const [i, id] of ids.entries()) expect((await store().statBlob(id))?.size).toBe(150_000 + i);
      const stat = (await store().statBlob(shared))!;
      expect(stat.parts.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
      const last = await readAll(await store().readBlob(shared, { start: 200_000 }));
      expect([sha256(a), sha256(b)]).toContain(sha256(last));
    });

    test(`${target.largeBytes >> 20} MiB streamed through and back without buffering it: bounded read-ahead, same SHA-256, ranged tail`, async () => {
      const id = newBlobId();
      const total = target.largeBytes + 12_345;
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      let written = "";
      const maxLead = await target.measureLead(async (onPull) => {
        const { body, state } = lazyBody(total, 64 * 1024, 3, (pulled) => {
          onPull(pulled);
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        });
        expect((await store().writePart(id, 0, body)).size).toBe(total);
        written = state.hasher.digest("hex");
      });
      console.log(`[measure] ${name}: ${total >> 20} MiB write read ahead at most ${(maxLead / 1048576).toFixed(2)} MiB of the backend (bound ${(target.maxLeadBytes / 1048576).toFixed(2)} MiB); RSS +${((rssPeak - rssBefore) / 1048576).toFixed(1)} MiB`);
      expect(target.maxLeadBytes).toBeLessThan(total * 0.7);
      expect(maxLead).toBeLessThanOrEqual(target.maxLeadBytes);
      const hasher = new Bun.CryptoHasher("sha256");
      let largestChunk = 0;
      for await (const chunk of (await store().readBlob(id)) as unknown as AsyncIterable<Uint8Array>) {
        hasher.update(chunk);
        largestChunk = Math.max(largestChunk, chunk.byteLength);
      }
      expect(hasher.digest("hex")).toBe(written);
      expect(largestChunk).toBeLessThan(total / 2);
      expect((await readAll(await store().readBlob(id, { start: total - 1000 }))).length).toBe(1000);
      await store().deleteBlob(id);
    });

    test("health check passes", async () => {
      await expect(store().checkHealth()).resolves.toBeUndefined();
    });
  });
}
