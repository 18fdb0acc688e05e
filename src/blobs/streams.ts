/**
 * Stream plumbing both stores share: counting a body against its limit while it streams, mapping
 * a byte range onto parts, and stitching part streams into one. Nothing here holds more than one
 * chunk of a body at a time.
 */
import { BlobDamagedError, BlobRangeError, BlobTooLargeError } from "./errors.ts";
import { MAX_LIST_LIMIT, type BlobBody, type BlobStat, type WritePartOptions } from "./store.ts";

/**
 * A garbage-collection nudge every GC_EVERY_BYTES of blob bytes moved through the process (written
 * or read, all transfers together). Why: every chunk of a transfer is a fresh buffer (the request
 * body's, a 256 KiB disk read, an S3 response chunk) that is garbage a moment later, and
 * JavaScriptCore schedules collections by the size of the live heap — with the embedded database
 * and the app loaded it let ~100 MiB of transfer buffers pile up before collecting them (a 100 MB
 * download grew the server's RSS by +100 MiB; scripts/bench/files.ts). `Bun.gc(false)` only asks
 * for a collection (it runs concurrently and returns at once; 12 per 100 MB cost a few ms in
 * total) and lets mimalloc return freed pages; it bounds the pile to a few nudges' worth.
 */
export const GC_EVERY_BYTES = 8 * 1024 * 1024;
let movedSinceCollection = 0;

/** Counts `bytes` of blob data moved; asks for a collection every GC_EVERY_BYTES. */
export function noteBytesMoved(bytes: number): void {
  movedSinceCollection += bytes;
  if (movedSinceCollection < GC_EVERY_BYTES) return;
  movedSinceCollection = 0;
  Bun.gc(false);
}

/** Yields the body's chunks, throwing BlobTooLargeError before yielding the chunk that crosses the limit. */
export async function* countBody(body: BlobBody, options: WritePartOptions = {}): AsyncGenerator<Uint8Array> {
  const { maxBytes = Number.POSITIVE_INFINITY, signal } = options;
  signal?.throwIfAborted();
  let total = 0;
  for await (const chunk of chunksOf(body)) {
    signal?.throwIfAborted();
    total += chunk.byteLength;
    if (total > maxBytes) throw new BlobTooLargeError(maxBytes);
    noteBytesMoved(chunk.byteLength);
    if (chunk.byteLength > 0) yield chunk;
  }
  signal?.throwIfAborted();
}

async function* chunksOf(body: BlobBody): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
  } else if (body instanceof ReadableStream) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      // Stopped early (limit, abort, storage error): tell the producer, e.g. the request body.
      await reader.cancel().catch(() => {});
    }
  } else {
    yield* body;
  }
}

/** A pull-based ReadableStream over an async iterator: the producer runs only as fast as it is read. */
export function streamFromIterator(iterator: AsyncIterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

export type Segment = Readonly<{ index: number; offset: number; length: number }>;

/**
 * The parts (and the slice of each) that hold bytes [start, end). Validates that the parts are
 * contiguous from 0 and the range lies inside the blob.
 */
export function planRange(stat: BlobStat, start = 0, end = stat.size): Segment[] {
  stat.parts.forEach((part, i) => {
    if (part.index !== i) throw new BlobDamagedError();
  });
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > stat.size || start > end) throw new BlobRangeError(stat.size);
  const segments: Segment[] = [];
  let partStart = 0;
  for (const part of stat.parts) {
    const partEnd = partStart + part.size;
    const from = Math.max(start, partStart);
    const to = Math.min(end, partEnd);
    if (from < to) segments.push({ index: part.index, offset: from - partStart, length: to - from });
    partStart = partEnd;
  }
  return segments;
}

/**
 * One stream over the segments, opened one after another. The first segment's first chunk is read
 * before this resolves, so a blob that vanished (or storage that fails) rejects here, before a
 * caller has sent any response header, rather than as a broken stream.
 */
export async function stitchSegments(
  segments: readonly Segment[],
  open: (segment: Segment) => Promise<ReadableStream<Uint8Array>> | ReadableStream<Uint8Array>,
  mapError: (error: unknown) => unknown = (error) => error,
): Promise<ReadableStream<Uint8Array>> {
  let next = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let expected = 0;
  let received = 0;
  // Reads the next chunk of the stitched stream, moving to the next segment when one ends.
  const readChunk = async (): Promise<Uint8Array | undefined> => {
    for (;;) {
      if (!reader) {
        const segment = segments[next++];
        if (!segment) return undefined;
        reader = (await open(segment)).getReader();
        expected = segment.length;
        received = 0;
      }
      const { done, value } = await reader.read();
      if (!done) {
        received += value.byteLength;
        if (received > expected) throw new BlobDamagedError();
        noteBytesMoved(value.byteLength);
        if (value.byteLength > 0) return value;
        continue;
      }
      reader.releaseLock();
      reader = undefined;
      // A part shorter than its listed size (truncated on disk, replaced meanwhile): fail loudly.
      if (received !== expected) throw new BlobDamagedError();
    }
  };
  let first: Uint8Array | undefined;
  try {
    first = await readChunk();
  } catch (error) {
    await reader?.cancel().catch(() => {});
    throw mapError(error);
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = first ?? (await readChunk());
          first = undefined;
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        } catch (error) {
          await reader?.cancel().catch(() => {});
          controller.error(mapError(error));
        }
      },
      async cancel(reason) {
        await reader?.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The first `length` bytes of `stream`, then cancels it. For ranged GETs from servers that send
 * more than asked (s3rver 3.7 answers "bytes=0-0" with the whole object); fewer is left to
 * stitchSegments to report as damage.
 */
export function takeBytes(stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let taken = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (taken >= length) {
          await reader.cancel().catch(() => {});
          return controller.close();
        }
        const { done, value } = await reader.read();
        if (done) return controller.close();
        const chunk = value.byteLength > length - taken ? value.subarray(0, length - taken) : value;
        taken += chunk.byteLength;
        controller.enqueue(chunk);
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

export function checkListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new RangeError(`list limit must be 1-${MAX_LIST_LIMIT}`);
}
