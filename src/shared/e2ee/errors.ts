// A typed error for every wire-format rejection. The server maps `code` to its own error tree
// (it must not import this file's callers' types), and the client shows or logs the code; the
// codes are stable so both sides and tests can match on them instead of on message text.

export type WireFormatErrorCode =
  | "MALFORMED_JSON"
  | "OVERSIZED"
  | "NOT_AN_OBJECT"
  | "UNSUPPORTED_VERSION"
  | "MISSING_FIELD"
  | "UNEXPECTED_FIELD"
  | "INVALID_FIELD_TYPE"
  | "INVALID_BASE64URL"
  | "INVALID_LENGTH"
  | "OUT_OF_RANGE"
  | "INVALID_ID"
  | "DUPLICATE_ID"
  | "INVALID_SIGNATURE";

export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
  readonly code: WireFormatErrorCode;
  /** Dotted path of the offending field, e.g. `signedPrekey.signature`. */
  readonly field: string | undefined;

  constructor(code: WireFormatErrorCode, message: string, field?: string) {
    super(field === undefined ? message : `${field}: ${message}`);
    this.code = code;
    this.field = field;
  }
}
