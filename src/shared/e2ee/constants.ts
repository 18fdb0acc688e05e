// Sizes and versions shared by the server (validation) and the browser (encoding). Changing a
// value here changes what the server accepts, so bump WIRE_VERSION when a format changes shape.

export const WIRE_VERSION = 1;

export const PUBLIC_KEY_LENGTH = 32; // X25519 and Ed25519 public keys
export const SIGNATURE_LENGTH = 64; // Ed25519
export const CHAIN_KEY_LENGTH = 32;
export const AEAD_TAG_LENGTH = 16; // Poly1305 / GCM tag

/** One-time prekeys are generated in batches of this size. */
export const ONE_TIME_PREKEY_BATCH_SIZE = 100;
/** Generate a new batch when fewer than this many remain on the server. */
export const ONE_TIME_PREKEY_LOW_WATERMARK = 20;
/** Upper bound on one-time prekeys in one upload (a batch plus headroom). */
export const MAX_ONE_TIME_PREKEYS_PER_UPLOAD = 200;

/** Prekey ids and sender key ids are unsigned 32-bit. */
export const MAX_KEY_ID = 0xffff_ffff;
/** Ratchet counters (N, PN) and sender key iterations. */
export const MAX_MESSAGE_COUNTER = 0x7fff_ffff;

/** Ids (users, devices, channels) are opaque strings from the server: UUIDs or similar. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Largest plaintext of one chat message (text plus metadata such as a file key). */
export const MAX_MESSAGE_PLAINTEXT_BYTES = 64 * 1024;
export const MAX_MESSAGE_CIPHERTEXT_BYTES = MAX_MESSAGE_PLAINTEXT_BYTES + AEAD_TAG_LENGTH;
/** A message's JSON: base64url inflates by 4/3, plus headers. */
export const MAX_MESSAGE_JSON_BYTES = 96 * 1024;

export const MAX_ENVELOPE_RECIPIENTS = 1024;
/** Prekey bundles handed out in one response: one per device of the target user. */
export const MAX_DEVICES_PER_USER = 32;
export const MAX_ENVELOPE_JSON_BYTES = 8 * 1024 * 1024;
export const MAX_BUNDLE_JSON_BYTES = 64 * 1024;

/** Attachments: plaintext chunk size we write, and the range a reader accepts. */
export const ATTACHMENT_CHUNK_SIZE = 64 * 1024;
export const MIN_ATTACHMENT_CHUNK_SIZE = 4 * 1024;
export const MAX_ATTACHMENT_CHUNK_SIZE = 1024 * 1024;
export const ATTACHMENT_NONCE_PREFIX_LENGTH = 7; // STREAM: 7-byte prefix ‖ u32 counter ‖ final flag
export const ATTACHMENT_KEY_LENGTH = 32;

/** Key backup. */
export const BACKUP_SALT_LENGTH = 32;
export const BACKUP_NONCE_LENGTH = 24; // XChaCha20-Poly1305
export const MAX_BACKUP_CIPHERTEXT_BYTES = 32 * 1024 * 1024;
export const MAX_BACKUP_JSON_BYTES = Math.ceil((MAX_BACKUP_CIPHERTEXT_BYTES * 4) / 3) + 4096;
export const MAX_BACKUP_VERSION = Number.MAX_SAFE_INTEGER;
