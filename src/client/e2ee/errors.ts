// Errors the client library throws for cryptographic failures. One class with a stable code so
// the UI can tell "tampered" from "need a new session" without parsing messages.

export type E2eeErrorCode =
  | "DECRYPT_FAILED" // AEAD authentication failed: tampered, truncated, wrong key, or replay
  | "REPLAYED_MESSAGE" // message key already used and deleted
  | "TOO_MANY_SKIPPED" // would need more than MAX_SKIP skipped keys
  | "INVALID_SIGNATURE"
  | "UNKNOWN_PREKEY"
  | "UNKNOWN_SENDER_KEY"
  | "NO_SESSION"
  | "INVALID_STATE"
  | "INVALID_RECOVERY_KEY"
  | "TRUNCATED_STREAM"
  | "OVERSIZED";

export class E2eeError extends Error {
  override readonly name = "E2eeError";
  readonly code: E2eeErrorCode;
  constructor(code: E2eeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
