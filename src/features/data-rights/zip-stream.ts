/**
 * A zip archive streamed as it is produced (fflate's streaming Zip, docs/decisions/0010): the
 * parts are pulled one chunk at a time when the HTTP client reads, so memory holds one chunk (a
 * page of messages) and the deflate window, whatever the archive's size.
 */
import { Zip, ZipDeflate } from "fflate";

export type ZipPart = { name: string; chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array> };

const encoder = new TextEncoder();

export function zipStream(parts: AsyncIterable<ZipPart>, mtime: Date): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let produced = 0;
  let failed: Error | null = null;
  const zip = new Zip((error, chunk, final) => {
    if (error) {
      failed = error;
      return;
    }
    if (chunk.length > 0) {
      controller.enqueue(chunk);
      produced += 1;
    }
    if (final) controller.close();
  });
  const partIterator = parts[Symbol.asyncIterator]();
  let current: { file: ZipDeflate; chunks: AsyncIterator<string | Uint8Array> | Iterator<string | Uint8Array> } | null = null;
  let ended = false;

  /** Advances by one step: the next chunk of the current part, or the next part, or the end. */
  const step = async (): Promise<void> => {
    if (!current) {
      const next = await partIterator.next();
      if (next.done) {
        ended = true;
        zip.end();
        return;
      }
      const file = new ZipDeflate(next.value.name, { level: 6 });
      file.mtime = mtime;
      zip.add(file);
      const source = next.value.chunks;
      current = { file, chunks: Symbol.asyncIterator in source ? (source as AsyncIterable<string | Uint8Array>)[Symbol.asyncIterator]() : (source as Iterable<string | Uint8Array>)[Symbol.iterator]() };
      return;
    }
    const item = await current.chunks.next();
    if (item.done) {
      current.file.push(new Uint8Array(0), true);
      current = null;
      return;
    }
    current.file.push(typeof item.value === "string" ? encoder.encode(item.value) : item.value, false);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull() {
        const before = produced;
        // Until something was written for the reader (deflate buffers small inputs) or the end.
        while (produced === before && !ended) {
          await step();
          if (failed) throw failed;
        }
      },
      async cancel() {
        await partIterator.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}
