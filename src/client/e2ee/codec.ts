// Helpers for JSON-safe, versioned serialisation of client state (sessions, identities, sender
// keys). Restores re-check every length so a corrupted store fails loudly instead of producing
// a state that silently cannot decrypt.

import { decodeBase64url, encodeBase64url } from "../../shared/e2ee/base64url.ts";
import { E2eeError } from "./errors.ts";

export const toB64 = encodeBase64url;

export function fromB64(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (typeof value !== "string") throw new E2eeError("INVALID_STATE", `${what}: expected base64url`);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64url(value, what);
  } catch {
    throw new E2eeError("INVALID_STATE", `${what}: bad base64url`);
  }
  if (length !== undefined && bytes.length !== length) throw new E2eeError("INVALID_STATE", `${what}: wrong length`);
  return bytes;
}

export function fromB64OrNull(value: unknown, length: number, what: string): Uint8Array | null {
  return value === null ? null : fromB64(value, length, what);
}

export function readStateInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new E2eeError("INVALID_STATE", `${what}: expected a non-negative integer`);
  }
  return value;
}

export function readStateString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new E2eeError("INVALID_STATE", `${what}: expected a string`);
  return value;
}

export function readStateObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new E2eeError("INVALID_STATE", `${what}: expected an object`);
  }
  return value as Record<string, unknown>;
}

export function readStateArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new E2eeError("INVALID_STATE", `${what}: expected an array`);
  return value;
}

export function checkStateVersion(obj: Record<string, unknown>, version: number, what: string): void {
  if (obj["v"] !== version) throw new E2eeError("INVALID_STATE", `${what}: unsupported state version`);
}
