// Small readers that every parser uses, so each field is checked the same way: presence, type,
// exact or bounded length, and no fields we do not know (a strict parser cannot be smuggled
// extra data that a later version would interpret differently).

import { decodeBase64url } from "./base64url.ts";
import { ID_PATTERN, MAX_KEY_ID, WIRE_VERSION } from "./constants.ts";
import { WireFormatError } from "./errors.ts";

export type WireObject = Record<string, unknown>;

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Accepts a JSON string (size-checked before parsing) or an already parsed value. */
export function readRoot(input: unknown, maxJsonBytes: number): WireObject {
  let value = input;
  if (typeof input === "string") {
    // UTF-16 length is a lower bound on UTF-8 bytes; every valid message is ASCII anyway.
    if (input.length > maxJsonBytes) throw new WireFormatError("OVERSIZED", `larger than ${maxJsonBytes} bytes`);
    try {
      value = JSON.parse(input);
    } catch {
      throw new WireFormatError("MALFORMED_JSON", "not valid JSON");
    }
  } else if (input instanceof Uint8Array) {
    if (input.length > maxJsonBytes) throw new WireFormatError("OVERSIZED", `larger than ${maxJsonBytes} bytes`);
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(input));
    } catch {
      throw new WireFormatError("MALFORMED_JSON", "not valid UTF-8 JSON");
    }
  }
  return readObjectValue(value, "");
}

export function readObjectValue(value: unknown, path: string): WireObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireFormatError("NOT_AN_OBJECT", "expected an object", path || undefined);
  }
  return value as WireObject;
}

export function checkKnownFields(obj: WireObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new WireFormatError("UNEXPECTED_FIELD", "unknown field", join(path, key));
  }
}

export function checkVersion(obj: WireObject, path = ""): void {
  const v = obj["v"];
  if (v === undefined) throw new WireFormatError("MISSING_FIELD", "missing", join(path, "v"));
  if (v !== WIRE_VERSION) throw new WireFormatError("UNSUPPORTED_VERSION", `expected ${WIRE_VERSION}`, join(path, "v"));
}

function readPresent(obj: WireObject, key: string, path: string): unknown {
  const value = obj[key];
  if (value === undefined) throw new WireFormatError("MISSING_FIELD", "missing", join(path, key));
  return value;
}

export function readBytes(
  obj: WireObject,
  key: string,
  path: string,
  length: { exact: number } | { min: number; max: number },
): Uint8Array {
  const field = join(path, key);
  const value = readPresent(obj, key, path);
  if (typeof value !== "string") throw new WireFormatError("INVALID_FIELD_TYPE", "expected base64url string", field);
  const max = "exact" in length ? length.exact : length.max;
  // Reject before decoding so an oversized field costs nothing.
  if (value.length > Math.ceil((max * 4) / 3)) throw new WireFormatError("INVALID_LENGTH", `longer than ${max} bytes`, field);
  const bytes = decodeBase64url(value, field);
  if ("exact" in length ? bytes.length !== length.exact : bytes.length < length.min || bytes.length > length.max) {
    throw new WireFormatError("INVALID_LENGTH", `unexpected length ${bytes.length}`, field);
  }
  return bytes;
}

export function readInteger(obj: WireObject, key: string, path: string, min: number, max: number): number {
  const field = join(path, key);
  const value = readPresent(obj, key, path);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new WireFormatError("INVALID_FIELD_TYPE", "expected an integer", field);
  }
  if (value < min || value > max) throw new WireFormatError("OUT_OF_RANGE", `expected ${min}..${max}`, field);
  return value;
}

export function readKeyId(obj: WireObject, key: string, path: string): number {
  return readInteger(obj, key, path, 0, MAX_KEY_ID);
}

export function readId(obj: WireObject, key: string, path: string): string {
  const field = join(path, key);
  const value = readPresent(obj, key, path);
  if (typeof value !== "string") throw new WireFormatError("INVALID_FIELD_TYPE", "expected a string", field);
  if (!ID_PATTERN.test(value)) throw new WireFormatError("INVALID_ID", "expected 1-64 of [A-Za-z0-9_-]", field);
  return value;
}

export function readArray(obj: WireObject, key: string, path: string, maxItems: number): unknown[] {
  const field = join(path, key);
  const value = readPresent(obj, key, path);
  if (!Array.isArray(value)) throw new WireFormatError("INVALID_FIELD_TYPE", "expected an array", field);
  if (value.length > maxItems) throw new WireFormatError("INVALID_LENGTH", `more than ${maxItems} items`, field);
  return value;
}

export function readNestedObject(obj: WireObject, key: string, path: string): WireObject {
  return readObjectValue(readPresent(obj, key, path), join(path, key));
}

export function isPresent(obj: WireObject, key: string): boolean {
  return obj[key] !== undefined && obj[key] !== null;
}

/** For callers that build ids themselves (the client) so bad ids fail at encode time. */
export function validateId(id: string, field: string): string {
  if (!ID_PATTERN.test(id)) throw new WireFormatError("INVALID_ID", "expected 1-64 of [A-Za-z0-9_-]", field);
  return id;
}

