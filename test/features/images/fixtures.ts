/** Test images: real encodings made with sharp, a PNG/HTML polyglot and a real PNG decompression bomb. */
import { deflateSync } from "node:zlib";
import sharp from "sharp";

export async function png(width = 64, height = 64, color = { r: 200, g: 40, b: 90 }): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: color } }).png().toBuffer());
}

/** A JPEG carrying EXIF with a camera make and GPS coordinates. */
export async function jpegWithGps(width = 800, height = 600): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
      .jpeg()
      .withExif({ IFD0: { Make: "SecretCamMaker", Model: "SecretCamModel" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1", GPSLongitudeRef: "W", GPSLongitude: "0/1 7/1 0/1" } })
      .toBuffer(),
  );
}

/** An animated GIF of `frames` frames (alternating colours). */
export async function animatedGif(frames = 6, width = 200, height = 160): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 4 * frames);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < width * height; i++) {
      const o = (f * width * height + i) * 4;
      raw[o] = f % 2 ? 255 : 0;
      raw[o + 1] = (f * 40) & 255;
      raw[o + 2] = f % 2 ? 0 : 255;
      raw[o + 3] = 255;
    }
  }
  return new Uint8Array(await sharp(raw, { raw: { width, height: height * frames, channels: 4, pageHeight: height } as never }).gif({ delay: Array(frames).fill(100) }).toBuffer());
}

export const POLYGLOT_MARKER = "<script>alert('polyglot-x17')</script>";

/** A valid PNG whose tEXt chunk and trailing bytes are an HTML page with a script. */
export async function pngHtmlPolyglot(): Promise<Uint8Array> {
  const base = Buffer.from(await png(32, 32));
  // Insert a tEXt chunk after IHDR (8 signature + 25 IHDR bytes) and append HTML after IEND.
  const text = chunk("tEXt", Buffer.from(`Comment\0<html><body>${POLYGLOT_MARKER}</body></html>`));
  return new Uint8Array(Buffer.concat([base.subarray(0, 33), text, base.subarray(33), Buffer.from(`<html>${POLYGLOT_MARKER}</html>`)]));
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A real 50,000 × 50,000 1-bit PNG: every row present, 312 MB once inflated, ~300 KB on the wire. */
export function pngBomb(side = 50_000): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1;
  ihdr[9] = 0;
  const idat = deflateSync(Buffer.alloc((Math.ceil(side / 8) + 1) * side), { level: 9 });
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]));
}

export const SVG = new TextEncoder().encode(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>`);
export const HTML = new TextEncoder().encode(`<!doctype html><html><body><script>alert(1)</script></body></html>`);
