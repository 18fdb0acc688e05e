// Images leave the browser re-encoded (docs/files.md "In the browser"): decoded and drawn on a
// canvas, then encoded again in the same format, which keeps the pixels (turned upright by the
// EXIF orientation) and drops every metadata segment — EXIF with GPS position and camera serial,
// XMP, IPTC, comments. "Send original" skips this on purpose. Also the small thumbnail that is
// uploaded as a blob of its own and shown before the full image.

/** Formats the browser re-encodes (and shows inline). GIF is sent as it is: a canvas would keep one frame. */
export const CLEANABLE = new Set(["image/jpeg", "image/png", "image/webp"]);
export const THUMB_MAX = 320;

export type Picture = { blob: Blob; type: string; width: number; height: number };

async function encode(bitmap: ImageBitmap, width: number, height: number, type: string, quality: number): Promise<Picture> {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  if (!g) throw new Error("This browser cannot draw images.");
  g.drawImage(bitmap, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, quality));
  if (!blob) throw new Error("This image could not be re-encoded.");
  // A browser that cannot write the format (WebP in some) writes PNG: say what it is.
  return { blob, type: blob.type || type, width, height };
}

/** The image without its metadata, in its own format (JPEG quality 0.92). Throws when it cannot be decoded. */
export async function cleanImage(file: Blob): Promise<Picture> {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    return await encode(bitmap, bitmap.width, bitmap.height, file.type, 0.92);
  } finally {
    bitmap.close();
  }
}

/** A JPEG at most THUMB_MAX pixels on its longer side; null when the image cannot be decoded. */
export async function makeThumbnail(image: Blob): Promise<Picture | null> {
  try {
    const bitmap = await createImageBitmap(image, { imageOrientation: "from-image" });
    try {
      return await thumbnailOf(bitmap);
    } finally {
      bitmap.close();
    }
  } catch {
    return null;
  }
}

/** The THUMB_MAX JPEG of a decoded picture (an image, or a video frame: media-prep.ts). */
export function thumbnailOf(bitmap: ImageBitmap): Promise<Picture> {
  const scale = Math.min(1, THUMB_MAX / Math.max(bitmap.width, bitmap.height));
  return encode(bitmap, Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)), "image/jpeg", 0.7);
}

/** Width and height of an image as sent (for the reader's layout), null when it cannot be decoded. */
export async function measureImage(image: Blob): Promise<{ width: number; height: number } | null> {
  try {
    const bitmap = await createImageBitmap(image, { imageOrientation: "from-image" });
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return null;
  }
}
