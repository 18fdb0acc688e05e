/**
 * Re-encode time and peak memory of the public-image pipeline (docs/decisions/0009-image-codec.md):
 *   bun scripts/bench/image-codec.ts
 * Makes a 4000×3000 photo-like JPEG, a ~10 MB animated GIF and a 50,000×50,000 PNG bomb, then
 * re-encodes each in a fresh child process (so the peak RSS is that one image's) several times.
 */
import { pngBomb } from "../../test/features/images/fixtures.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const child = process.argv[2] === "--child";

if (child) {
  const [, , , path, kind] = process.argv;
  const { reencodeImage } = await import("../../src/features/images/codec.ts");
  const bytes = new Uint8Array(await Bun.file(path!).arrayBuffer());
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  let outcome: string;
  try {
    if (kind === "none") throw new Error("baseline: file read, nothing decoded");
    const out = await reencodeImage(bytes, kind as "avatar");
    outcome = `${out.width}x${out.height} ${out.frames} frame(s) ${out.bytes.length} B`;
  } catch (error) {
    outcome = `refused: ${(error as { code?: string }).code ?? (error as Error).message}`;
  }
  const ms = performance.now() - t0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(await Bun.file("/proc/self/status").text());
  const peakKiB = hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
  console.log(JSON.stringify({ ms, rssBeforeMiB: before / 2 ** 20, peakRssMiB: peakKiB / 1024, outcome }));
  process.exit(0);
}

const sharp = (await import("sharp")).default;
const dir = mkdtempSync(join(tmpdir(), "image-bench-"));

/** A photo-like 4000×3000 JPEG: smooth gradients plus noise, so it does not compress to nothing. */
async function makeJpeg(): Promise<string> {
  const w = 4000, h = 3000;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    const n = (Math.random() * 40) | 0;
    raw[i] = ((x / w) * 200 + n) & 255;
    raw[i + 1] = ((y / h) * 200 + n) & 255;
    raw[i + 2] = (((x + y) / (w + h)) * 255) & 255;
  }
  const path = join(dir, "photo.jpg");
  writeFileSync(path, await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).withExif({ IFD0: { Make: "BenchCam" } }).toBuffer());
  return path;
}

/** An animated GIF of noisy frames, grown until it is about 10 MB. */
async function makeGif(): Promise<string> {
  const w = 480, h = 360, frames = 44;
  const raw = Buffer.alloc(w * h * 4 * frames);
  for (let i = 0; i < raw.length; i += 4) {
    raw[i] = (Math.random() * 255) | 0;
    raw[i + 1] = (Math.random() * 255) | 0;
    raw[i + 2] = (Math.random() * 255) | 0;
    raw[i + 3] = 255;
  }
  const gif = await sharp(raw, { raw: { width: w, height: h * frames, channels: 4, pageHeight: h } as never }).gif({ delay: Array(frames).fill(50) }).toBuffer();
  const path = join(dir, "anim.gif");
  writeFileSync(path, gif);
  return path;
}

const jpeg = await makeJpeg();
const gif = await makeGif();
const bombPath = join(dir, "bomb.png");
writeFileSync(bombPath, pngBomb());
const cases: [string, string, string][] = [
  ["baseline (import + read the JPEG, no re-encode)", jpeg, "none"],
  ["4000×3000 JPEG → avatar", jpeg, "avatar"],
  ["4000×3000 JPEG → banner", jpeg, "banner"],
  [`animated GIF → avatar`, gif, "avatar"],
  [`animated GIF → emoji`, gif, "emoji"],
  ["50,000×50,000 PNG bomb → avatar", bombPath, "avatar"],
];
console.log(`codec: sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`);
for (const [label, path, kind] of cases) {
  const size = Bun.file(path).size;
  const runs: { ms: number; peakRssMiB: number; rssBeforeMiB: number; outcome: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const p = Bun.spawnSync([process.execPath, import.meta.path, "--child", path, kind]);
    runs.push(JSON.parse(p.stdout.toString().trim().split("\n").pop()!));
  }
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`${label} (${(size / 2 ** 20).toFixed(2)} MiB in): median ${ms[1]!.toFixed(0)} ms (min ${ms[0]!.toFixed(0)}, max ${ms[2]!.toFixed(0)}), peak RSS ${Math.max(...runs.map((r) => r.peakRssMiB)).toFixed(0)} MiB (process at start ${runs[0]!.rssBeforeMiB.toFixed(0)} MiB) → ${runs[0]!.outcome}`);
}
