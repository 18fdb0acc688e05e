/**
 * The image pipeline of the public (NOT end-to-end encrypted) images: avatars, community icons and
 * banners, custom emoji (docs/decisions/0009-image-codec.md, docs/crypto.md "Public images").
 *
 *  1. sniff: the first bytes decide the format — PNG, JPEG, GIF or WebP, nothing else. The
 *     Content-Type and file name of the upload are never read, so SVG, HTML, PDF, scripts and
 *     anything unknown are refused (IMAGE_UNSUPPORTED) before libvips sees them.
 *  2. header: width, height and frame count from the header only (sharp's `metadata()` reads no
 *     pixel data); above MAX_INPUT_PIXELS (per frame) or MAX_TOTAL_PIXELS (all frames read) the
 *     image is refused (IMAGE_TOO_LARGE) without decoding anything: the decompression-bomb guard.
 *     `limitInputPixels` is set on the decoder too, as a second line.
 *  3. re-encode to WebP at a bounded size for its kind, every metadata block dropped (EXIF, GPS,
 *     XMP, ICC, comments: sharp keeps none unless asked), EXIF orientation applied first. Animated
 *     GIF/WebP stay animated up to MAX_FRAMES frames and the kind's animated byte budget; past it
 *     the first frame is kept as a still image.
 * One re-encode at a time per process (libvips is itself multi-threaded) and a time limit on each.
 */
import sharp, { type Metadata } from "sharp";
import { AppError, InvalidInputError } from "../../errors.ts";

export const IMAGE_KINDS = ["avatar", "icon", "banner", "emoji"] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

import { MAX_IMAGE_UPLOAD_BYTES } from "../../shared/image-limits.ts";
export { MAX_IMAGE_UPLOAD_BYTES };
/** Per frame: 40 megapixels (8000 × 5000). A 50,000 × 50,000 bomb is 2,500 megapixels. */
export const MAX_INPUT_PIXELS = 40_000_000;
/** All frames read of an animation together. */
export const MAX_TOTAL_PIXELS = 120_000_000;
/** Frames read and kept of an animation. */
export const MAX_FRAMES = 120;
/** Time limit of one re-encode (libvips' own timeout). */
export const ENCODE_TIMEOUT_SECONDS = 20;

type Bound = { width: number; height: number; fit: "cover" | "inside"; animatedBytes: number; animatedSize: number };
/** Output bounds per kind (px). Avatars and icons are square crops; banners and emoji keep their shape. */
export const BOUNDS: Record<ImageKind, Bound> = {
  avatar: { width: 512, height: 512, fit: "cover", animatedBytes: 2 * 1024 * 1024, animatedSize: 256 },
  icon: { width: 512, height: 512, fit: "cover", animatedBytes: 2 * 1024 * 1024, animatedSize: 256 },
  banner: { width: 1920, height: 640, fit: "inside", animatedBytes: 4 * 1024 * 1024, animatedSize: 960 },
  emoji: { width: 128, height: 128, fit: "inside", animatedBytes: 512 * 1024, animatedSize: 128 },
};

export type SniffedFormat = "png" | "jpeg" | "gif" | "webp";

/** The format from the magic bytes, or null. Nothing else about the upload is trusted. */
export function sniffImage(bytes: Uint8Array): SniffedFormat | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return "gif";
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return "webp";
  return null;
}

export class ImageUnsupportedError extends InvalidInputError {
  constructor(message = "This file is not a PNG, JPEG, GIF or WebP image.") {
    super(message, { image: message }, "IMAGE_UNSUPPORTED");
  }
}
export class ImageTooLargeError extends AppError {
  constructor(message: string) {
    super("IMAGE_TOO_LARGE", 413, message);
  }
}

/** A crop square in the source's pixels (after EXIF orientation), for avatars and icons. */
export type Crop = { x: number; y: number; size: number };

export type EncodedImage = { bytes: Uint8Array; contentType: "image/webp"; width: number; height: number; animated: boolean; frames: number };

let queue: Promise<unknown> = Promise.resolve();
/** One re-encode at a time: libvips uses every core for one image already; bounded memory. */
function serialised<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => {});
  return run;
}

sharp.concurrency(2);
sharp.cache(false);

/** Steps 1 and 2: the format and the header's dimensions; throws before any pixel is decoded. */
export async function inspectImage(bytes: Uint8Array): Promise<{ format: SniffedFormat; width: number; height: number; frames: number }> {
  if (bytes.length > MAX_IMAGE_UPLOAD_BYTES) throw new ImageTooLargeError("Images are limited to 10 MB.");
  const format = sniffImage(bytes);
  if (!format) throw new ImageUnsupportedError();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: "error", limitInputPixels: false }).metadata();
  } catch {
    throw new ImageUnsupportedError("This image is damaged or not readable.");
  }
  if (meta.format !== format && !(format === "jpeg" && meta.format === "jpeg")) throw new ImageUnsupportedError();
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  const frames = Math.max(1, meta.pages ?? 1);
  if (width < 1 || height < 1) throw new ImageUnsupportedError("This image has no pixels.");
  if (width * height > MAX_INPUT_PIXELS) throw new ImageTooLargeError(`This image is ${width} × ${height} pixels; the limit is ${MAX_INPUT_PIXELS / 1_000_000} megapixels.`);
  return { format, width, height, frames };
}

/** The whole pipeline. Throws IMAGE_UNSUPPORTED (400) or IMAGE_TOO_LARGE (413). */
export async function reencodeImage(bytes: Uint8Array, kind: ImageKind, crop?: Crop): Promise<EncodedImage> {
  const info = await inspectImage(bytes);
  const bound = BOUNDS[kind];
  const animatedSource = info.frames > 1 && (info.format === "gif" || info.format === "webp");
  if (animatedSource) {
    const frames = Math.min(info.frames, MAX_FRAMES, Math.floor(MAX_TOTAL_PIXELS / (info.width * info.height)));
    if (frames >= 2) {
      const animated = await serialised(() => encode(bytes, kind, bound, info, crop, frames));
      if (animated.bytes.length <= bound.animatedBytes) return animated;
    }
  }
  return serialised(() => encode(bytes, kind, bound, info, crop, 1));
}

async function encode(bytes: Uint8Array, kind: ImageKind, bound: Bound, info: { width: number; height: number }, crop: Crop | undefined, frames: number): Promise<EncodedImage> {
  const animated = frames > 1;
  // The pixel limit covers every frame read: width × (frame height × frames).
  let image = sharp(bytes, { animated, pages: frames, limitInputPixels: MAX_TOTAL_PIXELS, failOn: "error", sequentialRead: true }).timeout({ seconds: ENCODE_TIMEOUT_SECONDS });
  if (!animated) image = image.rotate(); // EXIF orientation, before the metadata is dropped
  if (crop && (kind === "avatar" || kind === "icon") && !animated) {
    const size = Math.min(crop.size, info.width, info.height);
    const left = Math.max(0, Math.min(crop.x, info.width - size));
    const top = Math.max(0, Math.min(crop.y, info.height - size));
    if (size >= 1) image = image.extract({ left, top, width: size, height: size });
  }
  const side = animated ? bound.animatedSize : undefined;
  const width = side ?? bound.width;
  const height = side ? Math.min(side, bound.height) : bound.height;
  image = image.resize({ width, height, fit: bound.fit, withoutEnlargement: bound.fit === "inside", position: "centre" });
  try {
    const { data, info: out } = await image.webp({ quality: 82, effort: 4, loop: 0 }).toBuffer({ resolveWithObject: true });
    const outFrames = animated ? Math.max(1, (out as { pages?: number }).pages ?? frames) : 1;
    return { bytes: new Uint8Array(data), contentType: "image/webp", width: out.width, height: (out as { pageHeight?: number }).pageHeight ?? out.height, animated, frames: outFrames };
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    if (/pixel limit|timeout/i.test(message)) throw new ImageTooLargeError("This image is too large to process.");
    throw new ImageUnsupportedError("This image is damaged or not readable.");
  }
}
