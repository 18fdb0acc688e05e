/**
 * Public images, profiles and custom emoji (issue 17 §1–§4; docs/profiles.md). NOT end-to-end
 * encrypted: see docs/crypto.md "Public images". Other features import only from here:
 *   blobIdsWithImages(db, ids)                     the files job's orphan walk keeps these blobs
 *   requireKnownCustomReaction(db, communityId, e)  reactions: `:shortcode:` must be in the set
 *   imageUrl(image)                                 the versioned URL of a stored image
 */
import { registerProfileChangeStep } from "../auth/index.ts";
import { queueProfileEvent } from "./profiles.ts";

export { imageRoutes } from "./routes.ts";
export { blobIdsWithImages, imageUrl } from "./store.ts";
export { requireKnownCustomReaction, MAX_EMOJI_PER_COMMUNITY } from "./emoji.ts";
export { reencodeImage, sniffImage, MAX_IMAGE_UPLOAD_BYTES, MAX_INPUT_PIXELS, type ImageKind } from "./codec.ts";

// A profile change (name, status, pronouns, about me) reaches community mates and DM partners live.
registerProfileChangeStep(queueProfileEvent);
