/**
 * Blobs in an S3-compatible bucket through Bun's built-in S3 client:
 *
 *   <prefix>ab/cd/<id>/0000, 0001, …   one object per part (ab, cd = the id's first four hex digits)
 *
 * A part is uploaded with `S3File.write(new Response(stream))`: Bun streams it as one PUT when it
 * fits in a part of PART_SIZE, otherwise as a multipart upload of PART_SIZE parts with at most
 * QUEUE_SIZE in flight, so a write holds at most about (QUEUE_SIZE + 1) × PART_SIZE in memory.
 * When the body stream errors (over the limit, aborted, client gone) Bun aborts the upload and
 * the object never appears. (`S3File.writer()` is not used: its `end(error)` and `close()`
 * complete the upload with what was written — measured on Bun 1.4.5, see the decision record.)
 *
 * Objects in the bucket that do not match the key pattern are ignored, never deleted.
 */
import { S3Client } from "bun";
import { AppError } from "../errors.ts";
import type { FileStorage } from "../config.ts";
import type { Logger } from "../log.ts";
import { BlobNotFoundError, BlobStoreUnavailableError } from "./errors.ts";
import { checkBlobId, checkPart, parsePartName, partName, shardsOf, type BlobId } from "./ids.ts";
import type { BlobBody, BlobPage, BlobPart, BlobStat, BlobStore, ReadBlobOptions, WritePartOptions } from "./store.ts";
import { checkListLimit, countBody, planRange, stitchSegments, streamFromIterator, takeBytes } from "./streams.ts";

type S3Storage = Extract<FileStorage, { kind: "s3" }>;

/** S3's minimum part size; parts of a blob larger than this go up as a multipart upload. */
export const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
const LIST_PAGE = 1000;

export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  readonly location: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(
    storage: S3Storage,
    private readonly log?: Logger,
    /** For measurements (scripts/bench/blobs.ts); the defaults are what Hearth runs with. */
    tuning: { partSize?: number; queueSize?: number } = {},
  ) {
    this.partSize = tuning.partSize ?? PART_SIZE;
    this.queueSize = tuning.queueSize ?? QUEUE_SIZE;
    // Every option is passed explicitly so Bun does not fill any from the environment (except the
    // session token, which it always takes from there: config.ts warns when one is set).
    this.client = new S3Client({
      endpoint: storage.endpoint,
      bucket: storage.bucket,
      region: storage.region,
      accessKeyId: storage.accessKeyId,
      secretAccessKey: storage.secretAccessKey,
    });
    this.prefix = storage.prefix;
    this.location = `${storage.endpoint}/${storage.bucket}/${storage.prefix}`;
  }

  async writePart(id: BlobId, part: number, body: BlobBody, options?: WritePartOptions): Promise<BlobPart> {
    checkBlobId(id);
    checkPart(part);
    let size = 0;
    const counted = countBody(body, options);
    const measured = (async function* () {
      for await (const chunk of counted) {
        size += chunk.byteLength;
        yield chunk;
      }
    })();
    try {
      await this.client.file(this.keyOf(id, part)).write(new Response(streamFromIterator(measured)), {
        partSize: this.partSize,
        queueSize: this.queueSize,
        type: "application/octet-stream",
      });
    } catch (error) {
      // The body's own error (too large, aborted, the client's stream failing) comes back as is.
      throw this.mapError("write", error, { passThrough: true });
    }
    return { index: part, size };
  }

  async statBlob(id: BlobId): Promise<BlobStat | undefined> {
    checkBlobId(id);
    const parts: BlobPart[] = [];
    let modified = 0;
    let continuationToken: string | undefined;
    const dir = this.directoryOf(id);
    do {
      const page = await this.list({ prefix: dir, maxKeys: LIST_PAGE, continuationToken });
      for (const object of page.contents ?? []) {
        const index = parsePartName(object.key.slice(dir.length));
        if (index === undefined) continue;
        parts.push({ index, size: object.size ?? 0 });
        modified = Math.max(modified, object.lastModified ? Date.parse(object.lastModified) : 0);
      }
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    if (parts.length === 0) return undefined;
    parts.sort((a, b) => a.index - b.index);
    return { id, size: parts.reduce((sum, p) => sum + p.size, 0), parts, modifiedAt: new Date(modified) };
  }

  async readBlob(id: BlobId, options: ReadBlobOptions = {}): Promise<ReadableStream<Uint8Array>> {
    checkBlobId(id);
    const stat = options.stat ?? (await this.statBlob(id));
    if (!stat) throw new BlobNotFoundError();
    const segments = planRange(stat, options.start, options.end);
    return stitchSegments(
      segments,
      // One ranged GET per part touched (Range: bytes=offset-…); Bun streams the response.
      (segment) => takeBytes(this.client.file(this.keyOf(id, segment.index)).slice(segment.offset, segment.offset + segment.length).stream(), segment.length),
      (error) => this.mapError("read", error),
    );
  }

  async deleteBlob(id: BlobId): Promise<void> {
    checkBlobId(id);
    const stat = await this.statBlob(id);
    if (!stat) return;
    // Bun's client has no multi-object delete: parts go one by one, the highest first, so an
    // interrupted delete leaves the first parts (found again by the garbage collector), never a
    // blob that reads as complete but shorter. One at a time: gentle on request rates, and
    // s3rver fails concurrent deletes in one "directory" (its empty-directory cleanup races).
    for (const part of [...stat.parts].reverse()) {
      await this.client.delete(this.keyOf(id, part.index)).catch((error) => {
        if ((error as { code?: string }).code !== "NoSuchKey") throw this.mapError("delete", error);
      });
    }
  }

  async listBlobs({ after, limit }: { after?: BlobId; limit: number }): Promise<BlobPage> {
    checkListLimit(limit);
    if (after !== undefined) checkBlobId(after);
    const byId = new Map<BlobId, { parts: BlobPart[]; modified: number }>();
    // "~" sorts after every part name, so the listing resumes at the first key of the next blob.
    let startAfter = after ? `${this.directoryOf(after)}~` : undefined;
    for (;;) {
      const page = await this.list({ prefix: this.prefix, maxKeys: LIST_PAGE, startAfter });
      const contents = page.contents ?? [];
      for (const object of contents) {
        const parsed = this.parseKey(object.key);
        if (!parsed) continue;
        let entry = byId.get(parsed.id);
        if (!entry) {
          // One blob more than asked for proves the last one is complete: stop there.
          if (byId.size === limit) return { blobs: toStats(byId), next: [...byId.keys()].at(-1) };
          byId.set(parsed.id, (entry = { parts: [], modified: 0 }));
        }
        entry.parts.push({ index: parsed.part, size: object.size ?? 0 });
        entry.modified = Math.max(entry.modified, object.lastModified ? Date.parse(object.lastModified) : 0);
      }
      if (!page.isTruncated || contents.length === 0) return { blobs: toStats(byId), next: undefined };
      startAfter = contents.at(-1)!.key;
    }
  }

  async checkHealth(): Promise<void> {
    await this.list({ prefix: this.prefix, maxKeys: 1 });
  }

  /**
   * Nothing to sweep: an interrupted write never creates an object, and the parts of a multipart
   * upload cut off by a crash are invisible; the bucket's lifecycle rule
   * (AbortIncompleteMultipartUpload, docs/operations.md) removes them.
   */
  async sweepTemporaries(): Promise<number> {
    return 0;
  }

  private keyOf(id: BlobId, part: number): string {
    return `${this.directoryOf(id)}${partName(part)}`;
  }

  private directoryOf(id: BlobId): string {
    const [a, b] = shardsOf(id);
    return `${this.prefix}${a}/${b}/${id}/`;
  }

  private parseKey(key: string): { id: BlobId; part: number } | undefined {
    const match = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{32})\/([0-9]{4})$/.exec(key.slice(this.prefix.length));
    if (!key.startsWith(this.prefix) || !match || match[3]!.slice(0, 4) !== match[1]! + match[2]!) return undefined;
    return { id: match[3] as BlobId, part: Number(match[4]) };
  }

  private async list(options: Parameters<S3Client["list"]>[0]) {
    try {
      return await this.client.list(options);
    } catch (error) {
      throw this.mapError("list", error);
    }
  }

  /** NoSuchKey is "not found"; any other S3 or network failure is logged (code and message, never a credential) and 503. */
  private mapError(operation: string, error: unknown, { passThrough = false } = {}): unknown {
    if (error instanceof AppError) return error;
    const code = (error as { code?: unknown })?.code;
    const isS3 = error instanceof Error && error.name === "S3Error";
    if (isS3 && code === "NoSuchKey") return new BlobNotFoundError();
    if (passThrough && !isS3) return error;
    const reason = error instanceof Error ? `${typeof code === "string" ? code : error.name}: ${error.message}` : String(error);
    this.log?.error("blobs.storage_error", { store: "s3", operation, location: this.location, reason });
    return new BlobStoreUnavailableError(reason);
  }
}

function toStats(byId: Map<BlobId, { parts: BlobPart[]; modified: number }>): BlobStat[] {
  return [...byId].map(([id, { parts, modified }]) => ({ id, size: parts.reduce((sum, p) => sum + p.size, 0), parts, modifiedAt: new Date(modified) }));
}
