/**
 * Database errors that are not bugs, recognised whatever the driver (postgres.js, PGlite) says:
 *  - "the database cannot be reached": the HTTP error renderer (toAppError) and the WebSocket frame
 *    handlers answer 503 DATABASE_UNAVAILABLE with Retry-After (docs/operations.md, "Database outage");
 *  - a unique violation that got past a service's own check: a concurrent request created the
 *    same thing first (two retries of one create): 409 CONFLICT.
 */

/** Retry-After of a DATABASE_UNAVAILABLE answer: the driver notices a return within seconds. */
export const DATABASE_RETRY_AFTER_SECS = 5;

/** Socket errors of Bun/Node when connecting to or talking with the server. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ConnectionRefused", "ConnectionClosed"]);
/** postgres.js's own connection errors (CONNECTION_DESTROYED: our driver dropped a pool that stopped answering). */
const DRIVER_CODES = new Set(["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"]);
/**
 * SQLSTATEs that mean "not now" rather than "wrong query": connection exceptions (class 08, but
 * not 08P01 protocol_violation, which is a client bug), admin/crash shutdown and "the database
 * system is starting up" (57P01–57P03), too many connections (53300).
 */
const RETRYABLE_SQLSTATES = new Set(["08000", "08001", "08003", "08004", "08006", "08007", "57P01", "57P02", "57P03", "53300"]);
/** PGlite after close, and Kysely after destroy (shutdown in progress). */
const CLOSED_MESSAGES = [/PGlite is closed/i, /driver has already been destroyed/i];

/** True when `error` (or an error it wraps, through `cause`) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string") {
      if (SOCKET_CODES.has(code) || DRIVER_CODES.has(code) || RETRYABLE_SQLSTATES.has(code)) return true;
    }
    if (typeof message === "string" && CLOSED_MESSAGES.some((re) => re.test(message))) return true;
  }
  return false;
}

/** PostgreSQL unique_violation (23505): the losing side of a race between two creates. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}
