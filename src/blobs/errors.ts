/**
 * What the blob store throws. Callers map none of these by hand: they are AppErrors with the
 * status the HTTP layer should answer. A missing blob is the plain NOT_FOUND, identical to an
 * unknown id (issue 12: "404, identical to an unknown id").
 */
import { AppError, InvalidInputError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError } from "../errors.ts";

export class BlobNotFoundError extends NotFoundError {}

export class InvalidPartError extends InvalidInputError {
  constructor(part: number) {
    super(`Part number ${JSON.stringify(part)} is outside 0-9999.`, undefined, "INVALID_PART");
  }
}

/** The body grew past the caller's limit while streaming; nothing was stored. */
export class BlobTooLargeError extends PayloadTooLargeError {
  constructor(readonly limitBytes: number) {
    super(`The data is larger than the ${limitBytes} bytes allowed.`);
  }
}

export class BlobRangeError extends AppError {
  constructor(readonly sizeBytes: number) {
    super("RANGE_NOT_SATISFIABLE", 416, "The requested range is outside the file.", { sizeBytes });
  }
}

/** A part is missing in the middle of a blob, or shorter than listed: never serve a partial file. */
export class BlobDamagedError extends AppError {
  constructor() {
    super("BLOB_DAMAGED", 500, "The stored file is damaged.");
  }
}

/** The storage itself failed (disk, permissions, S3 endpoint, credentials); the store logged why. */
export class BlobStoreUnavailableError extends ServiceUnavailableError {
  constructor(readonly reason: string) {
    super("File storage is temporarily unavailable.");
  }
}
