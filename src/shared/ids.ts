/**
 * Id checks shared by the server and the browser bundle. A leaf module on purpose (imports
 * nothing): schemas and constants modules import it without pulling a feature's index into an
 * import cycle.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any UUID (any version), case-insensitive. Malformed ids are "not found" and never reach SQL. */
export const isUuid = (value: unknown): value is string => typeof value === "string" && UUID.test(value);
