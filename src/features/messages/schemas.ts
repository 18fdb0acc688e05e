/**
 * Limits and input checks of the messaging feature (docs/messages.md). The server never parses a
 * ciphertext: it checks that it is base64url and that its decoded size is within the limit.
 */
import { AppError, InvalidInputError } from "../../errors.ts";
import { ID_PATTERN } from "../../shared/e2ee/index.ts";
import { isUuid } from "../../shared/ids.ts";

export const MAX_CIPHERTEXT_BYTES = 65_536;
/** base64url (no padding) of MAX_CIPHERTEXT_BYTES. */
export const MAX_CIPHERTEXT_CHARS = Math.ceil((MAX_CIPHERTEXT_BYTES * 4) / 3);
export const MAX_MENTIONS = 50;
export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 100;
export const EDIT_WINDOW_MS = 15 * 60 * 1000;
export const MAX_DISTINCT_REACTIONS = 20;
export const MAX_EMOJI_CHARS = 34; // `:shortcode:` of a 32-character custom emoji (migration 0028)
export const MAX_PINS_PER_CHANNEL = 50;
export const HARD_DELETE_AFTER_MS = 30 * 24 * 3600 * 1000;
export const MAX_TO_DEVICE_PER_CALL = 200;
/** Total decoded bytes of one to-device call. */
export const MAX_TO_DEVICE_BYTES_PER_CALL = 2 * 1024 * 1024;
/**
 * Request-body budgets (src/http/body-budget.ts) of the routes that carry a ciphertext: a maximal
 * ciphertext in base64url (MAX_CIPHERTEXT_CHARS, ~85 KiB) plus ids and up to 50 mentions, with
 * room to spare. Sends, edits, scheduled messages and polls.
 */
export const MAX_MESSAGE_REQUEST_BYTES = 128 * 1024;
/** A to-device call: MAX_TO_DEVICE_BYTES_PER_CALL in base64url plus up to 200 recipients' ids (~2.7 MiB). */
export const MAX_TO_DEVICE_REQUEST_BYTES = Math.ceil((MAX_TO_DEVICE_BYTES_PER_CALL * 4) / 3) + MAX_TO_DEVICE_PER_CALL * 512 + 4096;
/**
 * A device's queue is split into shares, one per sender user: what one sender may have waiting
 * (unfetched or unacknowledged) for one device, in messages and decoded bytes. A full share
 * refuses that sender only (409 QUEUE_FULL); every other sender's keys still go through.
 */
export const TO_DEVICE_SHARE_MAX_MESSAGES = 1_000;
export const TO_DEVICE_SHARE_MAX_BYTES = 1024 * 1024;
/** What one sender may have waiting over all recipient devices (decoded bytes): bounds storage per account. */
export const TO_DEVICE_SENDER_MAX_BYTES = 64 * 1024 * 1024;
/** Undelivered to-device messages expire after this long (not fetched, deleted by the message jobs). */
export const TO_DEVICE_TTL_MS = 30 * 24 * 3600 * 1000;
export const TO_DEVICE_FETCH_LIMIT = 500;
export const SCHEMES = ["sk", "pw"] as const;
export type Scheme = (typeof SCHEMES)[number];

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes a base64url ciphertext (no padding) or throws a 400/413 with a stable code. */
export function decodeCiphertext(value: unknown, field = "ciphertext"): Uint8Array {
  if (typeof value !== "string" || value.length === 0 || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw new InvalidInputError("The ciphertext must be a non-empty base64url string.", { [field]: "Must be base64url." }, "INVALID_CIPHERTEXT");
  }
  if (value.length > MAX_CIPHERTEXT_CHARS) throw tooLarge();
  const bytes = new Uint8Array(Buffer.from(value, "base64url"));
  if (bytes.length > MAX_CIPHERTEXT_BYTES) throw tooLarge();
  return bytes;
}

export function tooLarge(): AppError {
  return new AppError("MESSAGE_TOO_LARGE", 413, `A message may be at most ${MAX_CIPHERTEXT_BYTES / 1024} KiB once decoded.`);
}

export function encodeCiphertext(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

export function requireUuid(value: unknown, field: string, code = "INVALID_" + field.toUpperCase()): string {
  if (!isUuid(String(value ?? ""))) throw new InvalidInputError(`The field "${field}" must be a UUID.`, { [field]: "Must be a UUID." }, code);
  return String(value).toLowerCase();
}

export function optionalUuid(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : requireUuid(value, field);
}

export function requireDeviceId(value: unknown, field = "sender_device_id"): string {
  if (typeof value !== "string" || !ID_PATTERN.test(value)) throw new InvalidInputError(`The field "${field}" must be a device id.`, { [field]: "Must be 1–64 of A–Z a–z 0–9 _ -." }, "INVALID_DEVICE_ID");
  return value;
}

export function requireScheme(value: unknown): Scheme {
  if (value !== "sk" && value !== "pw") throw new InvalidInputError('The field "scheme" must be "sk" or "pw".', { scheme: 'Must be "sk" or "pw".' }, "INVALID_SCHEME");
  return value;
}

export type MentionAll = "everyone" | "here";

export function parseMentionAll(value: unknown): MentionAll | null {
  if (value === undefined || value === null) return null;
  if (value !== "everyone" && value !== "here") throw new InvalidInputError('The field "mention_all" must be "everyone", "here" or null.', { mention_all: 'Must be "everyone" or "here".' }, "INVALID_MENTION_ALL");
  return value;
}

/** Distinct lower-cased ids; more than MAX_MENTIONS is refused (not silently cut). */
export function parseMentions(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidInputError('The field "mentions" must be a list of user ids.', { mentions: "Must be a list." }, "INVALID_MENTIONS");
  const ids = [...new Set(value.map((v) => requireUuid(v, "mentions", "INVALID_MENTIONS")))];
  if (ids.length > MAX_MENTIONS) throw new InvalidInputError(`At most ${MAX_MENTIONS} people can be mentioned in one message.`, { mentions: "Too many." }, "TOO_MANY_MENTIONS");
  return ids;
}

/** An emoji (or shortcode) of 1–32 characters (code points), without control characters. */
export function requireEmoji(raw: string): string {
  let emoji = raw;
  try {
    emoji = decodeURIComponent(raw);
  } catch {
    // already decoded by the router
  }
  const length = [...emoji].length;
  if (length < 1 || length > MAX_EMOJI_CHARS || /[\u0000-\u001f\u007f\s]/.test(emoji)) {
    throw new InvalidInputError(`A reaction is 1–${MAX_EMOJI_CHARS} characters.`, { emoji: "Invalid." }, "INVALID_EMOJI");
  }
  return emoji.normalize("NFC");
}

export function parseSeq(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === "") return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError(`The field "${field}" must be a whole number ≥ 0.`, { [field]: "Invalid." }, "INVALID_" + field.toUpperCase());
  return n;
}

/**
 * `viewer_version` of a send or edit: the channel's viewer-set version the ciphertext was
 * encrypted for (from GET /api/channels/{id}/members). Optional: null means "not checked"
 * (bots and API clients that do not track it; the check protects honest senders from their own
 * stale recipient list, it is not an access control).
 */
export function parseViewerVersion(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError("viewer_version must be a whole number ≥ 1.", { viewer_version: "Invalid." }, "INVALID_VIEWER_VERSION");
  }
  return value;
}

/** 409 VIEWERS_CHANGED: the ciphertext was encrypted for an older viewer set than the channel's. */
export function viewersChanged(): AppError {
  return new AppError("VIEWERS_CHANGED", 409, "The people who can read this conversation changed since this message was encrypted. Encrypt it for the current list and send it again.");
}

export function parseLimit(value: unknown): number {
  if (value === undefined || value === null || value === "") return HISTORY_DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > HISTORY_MAX_LIMIT) throw new InvalidInputError(`limit must be 1–${HISTORY_MAX_LIMIT}.`, { limit: "Invalid." }, "INVALID_LIMIT");
  return n;
}

/** An opaque base64url blob of at most `maxBytes` decoded (bookmark notes): 400, or 413 with `code`. */
export function decodeBlob(value: unknown, field: string, maxBytes: number, code: string): Uint8Array {
  if (typeof value !== "string" || value.length === 0 || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw new InvalidInputError(`The field "${field}" must be a non-empty base64url string.`, { [field]: "Must be base64url." }, "INVALID_" + field.toUpperCase());
  }
  const tooBig = () => new AppError(code, 413, `The field "${field}" may be at most ${maxBytes / 1024} KiB once decoded.`);
  if (value.length > Math.ceil((maxBytes * 4) / 3)) throw tooBig();
  const bytes = new Uint8Array(Buffer.from(value, "base64url"));
  if (bytes.length > maxBytes) throw tooBig();
  return bytes;
}

/** An optional future instant (ISO string or epoch ms), or null. */
export function parseInstant(value: unknown, field: string): Date | null {
  if (value === undefined || value === null) return null;
  const d = typeof value === "number" ? new Date(value) : typeof value === "string" ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new InvalidInputError(`The field "${field}" must be a date-time.`, { [field]: "Must be an ISO 8601 date-time." }, "INVALID_" + field.toUpperCase());
  return d;
}
