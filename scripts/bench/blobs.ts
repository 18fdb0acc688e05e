/**
 * Blob store throughput for one large file, local directory vs S3-compatible storage (s3rver on
 * loopback) vs a plain `cp` of the same file on the same disk, with the peak RSS growth of this
 * process during each operation. The file is written as one part and as the parts a resumable
 * upload would make (8 MiB each), read back whole, and — for the decision record — the cost of a
 * "compose" step on S3 (read every part, write one object) that the store avoids.
 *
 *   bun scripts/bench/blobs.ts [--mb 100] [--part-mb 8]
 *
 * s3rver is an emulator written in JavaScript (md5 of every byte, files through Node streams):
 * its figures bound Hearth's side from below, they are not S3's or MinIO's.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBlobStore, newBlobId, openBlobStore, type BlobStore } from "../../src/blobs/index.ts";
import { startS3rver } from "../../test/helpers/s3rver.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg("mb", 100);
const PART_MB = arg("part-mb", 8);
const SIZE = MB * 1024 * 1024;

const work = mkdtempSync(join(tmpdir(), "hearth-bench-blobs-"));
const source = join(work, "source.bin");

type Figure = { label: string; seconds: number; rssMiB: number };
const figures: Figure[] = [];

/** Runs `fn`, sampling RSS every 20 ms; records the time and the peak RSS above the start. */
async function measure(label: string, fn: () => Promise<unknown>): Promise<Figure> {
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const figure = { label, seconds, rssMiB: (peak - before) / 1048576 };
  figures.push(figure);
  console.log(`${label.padEnd(44)} ${(MB / seconds).toFixed(0).padStart(6)} MB/s  ${seconds.toFixed(2).padStart(6)} s  RSS +${figure.rssMiB.toFixed(1)} MiB`);
  return figure;
}

async function consume(stream: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) total += chunk.byteLength;
  return total;
}

/** The source file's bytes [start, end) as a stream, as an upload request's body would arrive. */
const sourceSlice = (start: number, end: number) => Bun.file(source).slice(start, end).stream();

async function benchStore(name: string, store: BlobStore) {
  const single = newBlobId();
  await measure(`${name}: write, one part`, () => store.writePart(single, 0, sourceSlice(0, SIZE)));
  const parted = newBlobId();
  const partBytes = PART_MB * 1024 * 1024;
  await measure(`${name}: write, ${Math.ceil(SIZE / partBytes)} parts of ${PART_MB} MiB`, async () => {
    for (let part = 0, offset = 0; offset < SIZE; part++, offset += partBytes) {
      await store.writePart(parted, part, sourceSlice(offset, Math.min(SIZE, offset + partBytes)));
    }
  });
  await measure(`${name}: read, one part`, async () => {
    if ((await consume(await store.readBlob(single))) !== SIZE) throw new Error("short read");
  });
  await measure(`${name}: read, stitched parts`, async () => {
    if ((await consume(await store.readBlob(parted))) !== SIZE) throw new Error("short read");
  });
  return { single, parted };
}

// The source: random bytes (ciphertext is incompressible), written once.
{
  const writer = Bun.file(source).writer();
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < MB; i++) {
    // getRandomValues fills at most 64 KiB per call.
    for (let offset = 0; offset < chunk.length; offset += 65536) crypto.getRandomValues(chunk.subarray(offset, offset + 65536));
    writer.write(chunk);
  }
  await writer.end();
}
console.log(`${MB} MB file, ${PART_MB} MiB parts; Bun ${Bun.version}\n`);

try {
  await measure("cp", async () => {
    if (Bun.spawnSync(["cp", source, join(work, "copy.bin")]).exitCode !== 0) throw new Error("cp failed");
  });
  await measure("cp + fsync (coreutils sync FILE)", async () => {
    if (Bun.spawnSync(["sh", "-c", `cp "${source}" "${join(work, "copy2.bin")}" && sync "${join(work, "copy2.bin")}"`]).exitCode !== 0) throw new Error("cp failed");
  });
  rmSync(join(work, "copy.bin"));
  rmSync(join(work, "copy2.bin"));

  await benchStore("local", new LocalBlobStore(join(work, "files")));
  rmSync(join(work, "files"), { recursive: true, force: true });

  const s3 = await startS3rver();
  if (!s3) console.log("s3rver did not start: S3 figures skipped");
  else {
    try {
      const store = openBlobStore(s3.storage("bench/"));
      const { parted } = await benchStore("s3 (s3rver)", store);
      // What a compose step at the end of an upload would cost: every byte down and up again.
      await measure("s3 (s3rver): compose parts into one object", async () => store.writePart(newBlobId(), 0, await store.readBlob(parted)));
    } finally {
      await s3.stop();
    }
  }

  const cp = figures.find((f) => f.label === "cp")!;
  console.log(`\nratios to cp (${(MB / cp.seconds).toFixed(0)} MB/s; > 1 = slower):`);
  for (const f of figures.slice(1)) console.log(`  ${f.label.padEnd(44)} ${(f.seconds / cp.seconds).toFixed(1)}×`);
  console.log(`\nsource size ${statSync(source).size} bytes`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
