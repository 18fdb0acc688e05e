/**
 * One error tree with stable codes. Services throw these for expected outcomes; the single
 * renderer in src/http/errors.ts turns them into JSON, an htmx fragment, an error page or a WS
 * error frame. Anything that is not an AppError is a bug: logged with the request id, shown as 500.
 */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    /** Safe to show to the user. */
    readonly publicMessage: string,
    readonly details?: { fields?: FieldErrors; retryAfterSecs?: number; data?: Record<string, unknown> } & Record<string, unknown>,
  ) {
    super(publicMessage);
    this.name = "AppError";
  }
}

/** 400: the input is wrong; `fields` maps form field names to messages shown next to them. */
export class InvalidInputError extends AppError {
  constructor(message: string, fields?: FieldErrors, code = "VALIDATION_ERROR") {
    super(code, 400, message, fields ? { fields } : undefined);
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = "Please sign in.", code = "UNAUTHENTICATED") {
    super(code, 401, message);
  }
}
/** 403: rare on purpose; hide existence with NotFoundError instead where the actor may not see the thing. */
export class ForbiddenError extends AppError {
  constructor(message = "You are not allowed to do that.", code = "FORBIDDEN") {
    super(code, 403, message);
  }
}
export class NotFoundError extends AppError {
  constructor(message = "Not found.", code = "NOT_FOUND") {
    super(code, 404, message);
  }
}
export class ConflictError extends AppError {
  /** `data`: stable extra members of the error envelope (e.g. the list of what blocks the action). */
  constructor(message: string, code = "CONFLICT", fields?: FieldErrors, data?: Record<string, unknown>) {
    super(code, 409, message, fields || data ? { ...(fields ? { fields } : {}), ...(data ? { data } : {}) } : undefined);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(message = "The request body is too large.") {
    super("PAYLOAD_TOO_LARGE", 413, message);
  }
}
export class RateLimitedError extends AppError {
  constructor(retryAfterSecs: number, message = "Too many requests. Please slow down and try again shortly.", code = "RATE_LIMITED") {
    super(code, 429, message, { retryAfterSecs: Math.max(1, Math.ceil(retryAfterSecs)) });
  }
}
export class ServiceUnavailableError extends AppError {
  constructor(message = "The service is temporarily unavailable.") {
    super("SERVICE_UNAVAILABLE", 503, message);
  }
}
/** 503 while the database cannot be reached (src/db/error-kinds.ts); clients retry after Retry-After. */
export class DatabaseUnavailableError extends AppError {
  constructor(retryAfterSecs: number) {
    super("DATABASE_UNAVAILABLE", 503, "The database cannot be reached right now. Please try again in a few seconds.", { retryAfterSecs });
  }
}
/** 423: the target (an account under brute-force lockout) is locked for a while; Retry-After says how long. */
export class LockedError extends AppError {
  constructor(retryAfterSecs: number, message: string, code = "ACCOUNT_LOCKED") {
    super(code, 423, message, { retryAfterSecs: Math.max(1, Math.ceil(retryAfterSecs)) });
  }
}
