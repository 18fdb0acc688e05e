/**
 * Blob ids and part names. An id is 128 crypto-random bits in lowercase hex: nothing about it is
 * ordered by time or derived from a user value, so its first characters spread blobs evenly over
 * the shard directories (local) and key prefixes (S3). Every id and part number is checked against
 * a strict pattern before it becomes part of a path or key, which makes path traversal impossible
 * by construction: a path is only ever built from these checked pieces.
 */
import { BlobNotFoundError, InvalidPartError } from "./errors.ts";

declare const blobIdBrand: unique symbol;
export type BlobId = string & { readonly [blobIdBrand]: true };

export const BLOB_ID_PATTERN = /^[0-9a-f]{32}$/;
/** Parts are numbered 0 … MAX_PARTS-1; a blob is its parts 0…n-1 read in order. */
export const MAX_PARTS = 10_000;
const PART_NAME = /^[0-9]{4}$/;

export function newBlobId(): BlobId {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex") as BlobId;
}

export function isBlobId(value: unknown): value is BlobId {
  return typeof value === "string" && BLOB_ID_PATTERN.test(value);
}

/** An id from outside (a URL, a database row): anything off-pattern cannot exist, so it is "not found". */
export function parseBlobId(value: string): BlobId {
  if (!isBlobId(value)) throw new BlobNotFoundError();
  return value;
}

/** Ids typed as BlobId can still come from an unchecked cast: every store operation re-checks. */
export function checkBlobId(id: BlobId): void {
  if (!isBlobId(id)) throw new BlobNotFoundError();
}

export function checkPart(part: number): void {
  if (!Number.isInteger(part) || part < 0 || part >= MAX_PARTS) throw new InvalidPartError(part);
}

/** "0000" … "9999": fixed width, so name order is part order in directory and bucket listings. */
export function partName(part: number): string {
  checkPart(part);
  return String(part).padStart(4, "0");
}

export function parsePartName(name: string): number | undefined {
  return PART_NAME.test(name) ? Number(name) : undefined;
}

/** Two levels of 256 shards from the id's first four hex digits (like git-lfs: ab/cd/<id>). */
export function shardsOf(id: BlobId): [string, string] {
  return [id.slice(0, 2), id.slice(2, 4)];
}
