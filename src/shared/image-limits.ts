/** Limits of the public images and custom emoji (docs/profiles.md), shared by server and pages. */
/** seeds/000: at most 50 custom emoji per community. */
export const MAX_EMOJI_PER_COMMUNITY = 50;
/** seeds/000: icon and banner uploads are capped at 10 MB; the same cap holds for avatars and emoji. */
export const MAX_IMAGE_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The versioned address of a stored public image (images/serve.ts): its content hash is in the path. */
export function publicImageUrl(id: string, sha256: string): string {
  return `/media/${id}/${sha256}.webp`;
}
