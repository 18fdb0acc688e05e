/**
 * The app icons of the web app manifest (src/features/notifications/pwa.tsx), drawn at build
 * time: a white flame (a circle under a point, the brand mark's outline simplified) on the accent
 * colour. "any" icons have rounded corners; the maskable one fills the square and keeps the flame
 * inside the 80 % safe zone. PNG written with node:zlib (RGBA, one IDAT), 4x4 supersampled edges.
 */
import { deflateSync } from "node:zlib";

const ACCENT = [0x44, 0x50, 0xc4] as const;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(size: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", new Uint8Array(0))]);
}

/** The flame in unit coordinates (0..1), scaled by `s` around the centre. */
function inFlame(x: number, y: number, s: number): boolean {
  const u = (x - 0.5) / s + 0.5;
  const v = (y - 0.5) / s + 0.5;
  const cx = 0.5, cy = 0.62, r = 0.24, tipY = 0.12;
  if ((u - cx) ** 2 + (v - cy) ** 2 <= r * r) return true;
  // The point: between the tip and the circle's tangents.
  if (v < tipY || v > cy) return false;
  const d = cy - tipY;
  const half = (r * (v - tipY)) / Math.sqrt(d * d - r * r) ;
  return Math.abs(u - cx) <= half * (d / Math.sqrt(d * d)) && Math.abs(u - cx) <= r;
}

function inRoundedSquare(x: number, y: number, radius: number): boolean {
  const dx = Math.max(radius - x, 0, x - (1 - radius));
  const dy = Math.max(radius - y, 0, y - (1 - radius));
  return dx * dx + dy * dy <= radius * radius;
}

export function drawIcon(size: number, maskable: boolean): Buffer {
  const rgba = new Uint8Array(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let fg = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = (px + (sx + 0.5) / S) / size;
          const y = (py + (sy + 0.5) / S) / size;
          if (maskable || inRoundedSquare(x, y, 0.2)) {
            bg++;
            if (inFlame(x, y, maskable ? 0.62 : 0.8)) fg++;
          }
        }
      }
      const i = (py * size + px) * 4;
      const f = bg === 0 ? 0 : fg / bg;
      rgba[i] = Math.round(ACCENT[0] + (255 - ACCENT[0]) * f);
      rgba[i + 1] = Math.round(ACCENT[1] + (255 - ACCENT[1]) * f);
      rgba[i + 2] = Math.round(ACCENT[2] + (255 - ACCENT[2]) * f);
      rgba[i + 3] = Math.round((255 * bg) / (S * S));
    }
  }
  return encodePng(size, rgba);
}

/** Logical name -> PNG bytes, as the build writes them. */
export function appIcons(): Record<string, Buffer> {
  return { "icon-192.png": drawIcon(192, false), "icon-512.png": drawIcon(512, false), "icon-maskable-512.png": drawIcon(512, true) };
}
