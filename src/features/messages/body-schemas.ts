/**
 * TypeBox schemas of the messaging bodies (sends, edits, read cursors, to-device, bookmarks, polls,
 * scheduled messages): what each route accepts, so the OpenAPI document describes it and a
 * malformed body is refused at the edge. Each field names the stable code its service has always
 * answered with (`x-code`; src/http/validation-error.ts reads it), and a ciphertext over its limit
 * answers 413 with the service's code (`x-too-large`), so clients see the same errors as before.
 *
 * The services keep their parsers: they are also reached without HTTP (scheduled sends, the
 * WebSocket path, tests) and check what a schema cannot state (a poll's option indexes against
 * that poll, send_at against the clock, the decoded size of a ciphertext, duplicate file ids).
 */
import { t, type TSchema } from "elysia";
// TypeBox's own Integer: Elysia's t.Integer also accepts numeric strings ("1"), which a JSON body must not.
import { Type } from "@sinclair/typebox";
import { ID_PATTERN } from "../../shared/e2ee/index.ts";
import { MAX_POLL_OPTIONS, MIN_POLL_OPTIONS } from "../../shared/poll-limits.ts";
import { MAX_FILES_PER_MESSAGE } from "../../shared/file-limits.ts";
import { MAX_BOOKMARK_NOTE_BYTES as MAX_NOTE_BYTES } from "./bookmarks.ts";
import { MAX_CIPHERTEXT_BYTES, MAX_CIPHERTEXT_CHARS, MAX_MENTIONS, MAX_TO_DEVICE_PER_CALL } from "./schemas.ts";

const BASE64URL = "^[A-Za-z0-9_-]+$";
const UUID = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

const uuid = (code: string) => t.String({ pattern: UUID, maxLength: 36, "x-code": code });
const nullable = (schema: TSchema, code: string) => t.Optional(t.Union([schema, t.Null()], { "x-code": code }));
const deviceId = (code = "INVALID_DEVICE_ID") => t.String({ pattern: ID_PATTERN.source, maxLength: 64, "x-code": code });
const instant = (code: string, description: string) =>
  t.Union([t.String({ format: "date-time", maxLength: 40 }), Type.Integer({ minimum: 0 })], { "x-code": code, description });

/** A base64url ciphertext of at most `maxBytes` once decoded: 400 `code` when malformed, 413 `tooLarge` when longer. */
const ciphertext = (maxBytes: number, code: string, tooLarge: string, description: string, what = "This field") =>
  t.String({
    minLength: 1,
    maxLength: Math.ceil((maxBytes * 4) / 3),
    pattern: BASE64URL,
    description,
    "x-code": code,
    "x-too-large": { code: tooLarge, message: `${what} may be at most ${maxBytes / 1024} KiB once decoded.` },
  });
const messageCiphertext = (description: string) => ciphertext(MAX_CIPHERTEXT_BYTES, "INVALID_CIPHERTEXT", "MESSAGE_TOO_LARGE", description, "A message");

const sendFields = {
  client_id: uuid("INVALID_CLIENT_ID"),
  scheme: t.Union([t.Literal("sk"), t.Literal("pw")], { "x-code": "INVALID_SCHEME", description: '"sk": Sender Key (channels, group DMs); "pw": pairwise (DMs).' }),
  ciphertext: messageCiphertext(`The encrypted message, base64url, at most ${MAX_CIPHERTEXT_BYTES / 1024} KiB decoded (${MAX_CIPHERTEXT_CHARS} characters).`),
  sender_device_id: deviceId(),
  reply_to_id: nullable(uuid("INVALID_REPLY_TO_ID"), "INVALID_REPLY_TO_ID"),
  thread_root_id: nullable(uuid("INVALID_THREAD_ROOT_ID"), "INVALID_THREAD_ROOT_ID"),
  mentions: nullable(t.Array(uuid("INVALID_MENTIONS"), { maxItems: MAX_MENTIONS, "x-code": "TOO_MANY_MENTIONS" }), "INVALID_MENTIONS"),
  viewer_version: nullable(Type.Integer({ minimum: 1, description: "The channel's viewer-set version the ciphertext was encrypted for (optional)." }), "INVALID_VIEWER_VERSION"),
  mention_all: nullable(
    t.Union([t.Literal("everyone"), t.Literal("here")], {
      description: '@everyone (everyone who can read the channel) or @here (those online when it is sent): needs the mention_everyone permission in community channels, else 403 MENTION_EVERYONE_DENIED (docs/messages.md "Unread and mentions").',
    }),
    "INVALID_MENTION_ALL",
  ),
  file_ids: nullable(t.Array(uuid("INVALID_FILE_IDS"), { maxItems: MAX_FILES_PER_MESSAGE, "x-code": "INVALID_FILE_IDS" }), "INVALID_FILE_IDS"),
};

/** POST /api/channels/{id}/messages */
export const SendBody = t.Object(sendFields);

/** POST /api/channels/{id}/scheduled */
export const ScheduleBody = t.Object({ ...sendFields, send_at: instant("INVALID_SEND_AT", "When to send: ISO 8601 date-time or epoch milliseconds, within 30 days.") });

/** PATCH /api/messages/{id} */
export const EditBody = t.Object({
  ciphertext: messageCiphertext("The new encrypted text, base64url."),
  viewer_version: sendFields.viewer_version,
  sender_device_id: t.Optional(deviceId()),
});

/** PUT /api/channels/{id}/read */
export const ReadBody = t.Object({ seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, "x-code": "INVALID_SEQ", description: "The last sequence number read." }) });

/** POST /api/e2ee/to-device */
export const ToDeviceBody = t.Object({
  sender_device_id: deviceId(),
  messages: t.Array(
    t.Object({
      user_id: uuid("INVALID_USER_ID"),
      device_id: deviceId(),
      ciphertext: messageCiphertext("The encrypted key message for this device, base64url."),
    }),
    { minItems: 1, maxItems: MAX_TO_DEVICE_PER_CALL, "x-code": "INVALID_MESSAGES" },
  ),
});

/** POST /api/e2ee/to-device/ack */
export const ToDeviceAckBody = t.Object({ device_id: deviceId(), up_to_id: uuid("INVALID_UP_TO_ID") });

const note = ciphertext(MAX_NOTE_BYTES, "INVALID_NOTE_CIPHERTEXT", "NOTE_TOO_LARGE", `The encrypted note, base64url, at most ${MAX_NOTE_BYTES / 1024} KiB decoded.`, "A note");

/** POST /api/bookmarks */
export const BookmarkBody = t.Object({ message_id: uuid("INVALID_MESSAGE_ID"), note_ciphertext: nullable(note, "INVALID_NOTE_CIPHERTEXT") });

/** PATCH /api/bookmarks/{id}: null clears the note. */
export const BookmarkNoteBody = t.Object({ note_ciphertext: t.Union([note, t.Null()], { "x-code": "INVALID_NOTE_CIPHERTEXT" }) });

/** POST /api/channels/{id}/polls */
export const PollBody = t.Object({
  client_id: uuid("INVALID_CLIENT_ID"),
  question_ciphertext: ciphertext(MAX_CIPHERTEXT_BYTES, "INVALID_CIPHERTEXT", "MESSAGE_TOO_LARGE", "The encrypted question and options, base64url.", "A poll"),
  option_count: Type.Integer({ minimum: MIN_POLL_OPTIONS, maximum: MAX_POLL_OPTIONS, "x-code": "INVALID_OPTION_COUNT" }),
  multi_select: t.Boolean({ "x-code": "INVALID_MULTI_SELECT" }),
  anonymous: t.Boolean({ "x-code": "INVALID_ANONYMOUS" }),
  expires_at: nullable(instant("INVALID_EXPIRES_AT", "When voting closes, at most a year ahead."), "INVALID_EXPIRES_AT"),
});

/** POST /api/polls/{id}/votes */
export const VoteBody = t.Object({
  option_indexes: t.Array(Type.Integer({ minimum: 0, maximum: MAX_POLL_OPTIONS - 1 }), { minItems: 1, maxItems: MAX_POLL_OPTIONS, "x-code": "INVALID_OPTION_INDEXES" }),
});
