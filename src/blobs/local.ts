/**
 * Blobs on the local file system under FILE_STORAGE_PATH:
 *
 *   <root>/ab/cd/<id>/0000, 0001, …   parts of blob <id> (ab, cd = its first four hex digits)
 *   <root>/.tmp/                      writes in progress and deletions in progress
 *
 * A part is written to .tmp (O_EXCL, mode 0600), fsynced, renamed into place, and its directory
 * fsynced: it appears whole or not at all, and survives a power cut once writePart resolved.
 * A blob is deleted by renaming its directory into .tmp first, so it disappears at once even if
 * the removal is interrupted. Directories are created on first write with mode 0700.
 *
 * Symlinks: paths are built only from checked ids and part names, every directory below the root
 * is checked with lstat (a symlink there is refused, not followed) and files are opened with
 * O_NOFOLLOW, so nothing outside the root is ever read, written or deleted. The root itself may be
 * a symlink the operator made (e.g. onto a larger disk).
 */
import { constants, type Stats } from "node:fs";
import { access, lstat, mkdir, open, readdir, realpath, rename, rm, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { BlobDamagedError, BlobNotFoundError, BlobStoreUnavailableError } from "./errors.ts";
import { checkBlobId, checkPart, parsePartName, partName, shardsOf, type BlobId } from "./ids.ts";
import type { BlobPage, BlobPart, BlobStat, BlobStore, BlobBody, ReadBlobOptions, WritePartOptions } from "./store.ts";
import { checkListLimit, countBody, planRange, stitchSegments, type Segment } from "./streams.ts";

const TMP = ".tmp";
const SHARD = /^[0-9a-f]{2}$/;
const READ_CHUNK = 256 * 1024;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

const randomSuffix = () => Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
const isMissing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === "ENOENT";

export class LocalBlobStore implements BlobStore {
  readonly kind = "local" as const;
  readonly location: string;
  private resolvedRoot: string | undefined;

  constructor(
    private readonly root: string,
    private readonly log?: Logger,
  ) {
    this.location = root;
  }

  async writePart(id: BlobId, part: number, body: BlobBody, options?: WritePartOptions): Promise<BlobPart> {
    checkBlobId(id);
    checkPart(part);
    const root = await this.ensureRoot();
    const tmpDir = await this.ensureDirectory(root, TMP);
    const tmp = join(tmpDir, `${id}.${partName(part)}.${randomSuffix()}`);
    let handle: FileHandle | undefined;
    let stored = false;
    try {
      handle = await open(tmp, WRITE_FLAGS, 0o600).catch((error) => this.fail("write", error));
      let size = 0;
      for await (const chunk of countBody(body, options)) {
        await writeFully(handle, chunk).catch((error) => this.fail("write", error));
        size += chunk.byteLength;
      }
      await handle.sync().catch((error) => this.fail("write", error));
      await handle.close();
      handle = undefined;
      const dir = await this.blobDirectory(root, id, true);
      await rename(tmp, join(dir!, partName(part))).catch((error) => this.fail("write", error));
      stored = true;
      await syncDirectory(dir!);
      return { index: part, size };
    } finally {
      await handle?.close().catch(() => {});
      if (!stored) await rm(tmp, { force: true }).catch(() => {});
    }
  }

  async statBlob(id: BlobId): Promise<BlobStat | undefined> {
    checkBlobId(id);
    const root = await this.rootDir(false);
    const dir = root && (await this.blobDirectory(root, id, false));
    return dir ? this.statDirectory(id, dir) : undefined;
  }

  async readBlob(id: BlobId, options: ReadBlobOptions = {}): Promise<ReadableStream<Uint8Array>> {
    checkBlobId(id);
    const stat = options.stat ?? (await this.statBlob(id));
    if (!stat) throw new BlobNotFoundError();
    const segments = planRange(stat, options.start, options.end);
    const root = await this.rootDir(false);
    const dir = root && (await this.blobDirectory(root, id, false));
    if (!dir) throw new BlobNotFoundError();
    return stitchSegments(segments, (segment) => readSegment(join(dir, partName(segment.index)), segment), (error) => this.mapReadError(error));
  }

  async deleteBlob(id: BlobId): Promise<void> {
    checkBlobId(id);
    const root = await this.rootDir(false);
    const dir = root && (await this.blobDirectory(root, id, false));
    if (!root || !dir) return;
    const trash = join(await this.ensureDirectory(root, TMP), `${id}.deleted.${randomSuffix()}`);
    try {
      await rename(dir, trash);
    } catch (error) {
      if (isMissing(error)) return; // deleted concurrently
      this.fail("delete", error);
    }
    await syncDirectory(dirname(dir));
    await rm(trash, { recursive: true, force: true }).catch((error) => this.fail("delete", error));
  }

  async listBlobs({ after, limit }: { after?: BlobId; limit: number }): Promise<BlobPage> {
    checkListLimit(limit);
    if (after !== undefined) checkBlobId(after);
    const root = await this.rootDir(false);
    const blobs: BlobStat[] = [];
    if (!root) return { blobs, next: undefined };
    const [afterA = "", afterB = ""] = after ? shardsOf(after) : [];
    for (const a of await this.listDirectories(root, SHARD)) {
      if (a < afterA) continue;
      for (const b of await this.listDirectories(join(root, a), SHARD)) {
        if (a === afterA && b < afterB) continue;
        for (const name of await this.listDirectories(join(root, a, b), /^[0-9a-f]{32}$/)) {
          const id = name as BlobId;
          if ((after && id <= after) || !id.startsWith(a + b)) continue;
          const stat = await this.statDirectory(id, join(root, a, b, id));
          if (!stat) continue;
          blobs.push(stat);
          if (blobs.length === limit) return { blobs, next: id };
        }
      }
    }
    return { blobs, next: undefined };
  }

  async checkHealth(): Promise<void> {
    try {
      const existing = await nearestExisting(this.root);
      const stats = await lstat(await realpath(existing));
      if (!stats.isDirectory()) throw new Error(`${existing} is not a directory`);
      await access(existing, constants.W_OK | constants.X_OK);
    } catch (error) {
      this.fail("health", error);
    }
  }

  async sweepTemporaries(olderThanMs: number): Promise<number> {
    const root = await this.rootDir(false);
    if (!root) return 0;
    const tmpDir = join(root, TMP);
    const entries = await readdir(tmpDir).catch((error) => (isMissing(error) ? [] : this.fail("sweep", error)));
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of entries) {
      const path = join(tmpDir, name);
      const stats = await lstat(path).catch(() => undefined);
      if (!stats || stats.mtimeMs > cutoff) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  /** The real path of the root, created with 0700 on the first write. */
  private async ensureRoot(): Promise<string> {
    return (await this.rootDir(true))!;
  }

  /** The real path of the root (resolved once); undefined while it does not exist and !create. */
  private async rootDir(create: boolean): Promise<string | undefined> {
    if (this.resolvedRoot) return this.resolvedRoot;
    try {
      if (create) await mkdir(this.root, { recursive: true, mode: 0o700 });
      const real = await realpath(this.root);
      if (!(await lstat(real)).isDirectory()) throw new Error(`${this.root} is not a directory`);
      this.resolvedRoot = real;
      return real;
    } catch (error) {
      if (!create && isMissing(error)) return undefined;
      return this.fail(create ? "write" : "read", error);
    }
  }

  /** <root>/ab/cd/<id>, every level a real directory (not a symlink); undefined when missing and !create. */
  private async blobDirectory(root: string, id: BlobId, create: boolean): Promise<string | undefined> {
    let dir = root;
    for (const name of [...shardsOf(id), id]) {
      if (create) dir = await this.ensureDirectory(dir, name);
      else {
        dir = join(dir, name);
        const stats = await lstat(dir).catch((error) => (isMissing(error) ? undefined : this.fail("read", error)));
        if (!stats) return undefined;
        if (!stats.isDirectory()) this.refuseNonDirectory(dir, stats);
      }
    }
    return dir;
  }

  private async ensureDirectory(parent: string, name: string): Promise<string> {
    const dir = join(parent, name);
    let created = false;
    try {
      await mkdir(dir, { mode: 0o700 });
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") this.fail("write", error);
    }
    const stats = await lstat(dir).catch((error) => this.fail("write", error));
    if (!stats.isDirectory()) this.refuseNonDirectory(dir, stats);
    if (created) await syncDirectory(parent);
    return dir;
  }

  private refuseNonDirectory(path: string, stats: Stats): never {
    const what = stats.isSymbolicLink() ? "a symbolic link" : "not a directory";
    return this.fail("path", new Error(`${path} is ${what}; the blob store never follows links out of ${this.root}`));
  }

  private async listDirectories(dir: string, pattern: RegExp): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error) => (isMissing(error) ? [] : this.fail("list", error)));
    // Dirent types come from lstat-like readdir data: a symlink is never a directory here.
    return entries.filter((entry) => entry.isDirectory() && pattern.test(entry.name)).map((entry) => entry.name).sort();
  }

  private async statDirectory(id: BlobId, dir: string): Promise<BlobStat | undefined> {
    const names = await readdir(dir).catch((error) => (isMissing(error) ? [] : this.fail("read", error)));
    const parts: BlobPart[] = [];
    let modified = 0;
    for (const name of names.sort()) {
      const index = parsePartName(name);
      if (index === undefined) continue;
      const stats = await lstat(join(dir, name)).catch((error) => (isMissing(error) ? undefined : this.fail("read", error)));
      if (!stats?.isFile()) continue;
      parts.push({ index, size: stats.size });
      modified = Math.max(modified, stats.mtimeMs);
    }
    if (parts.length === 0) return undefined;
    return { id, size: parts.reduce((sum, p) => sum + p.size, 0), parts, modifiedAt: new Date(modified) };
  }

  private mapReadError(error: unknown): unknown {
    if (error instanceof AppError) return error;
    const code = (error as NodeJS.ErrnoException)?.code;
    // ENOENT: deleted between listing and opening (the blob is going away); ELOOP: a symlink
    // swapped in for a part, refused by O_NOFOLLOW. Either way there is no such blob to serve.
    if (code === "ENOENT" || code === "ELOOP") return new BlobNotFoundError();
    return this.toUnavailable("read", error);
  }

  private toUnavailable(operation: string, error: unknown): BlobStoreUnavailableError {
    const reason = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : String(error);
    this.log?.error("blobs.storage_error", { store: "local", operation, reason });
    return new BlobStoreUnavailableError(reason);
  }

  private fail(operation: string, error: unknown): never {
    if (error instanceof BlobStoreUnavailableError) throw error;
    throw this.toUnavailable(operation, error);
  }
}

async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/** fsync of a directory makes a rename or new entry in it durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function nearestExisting(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    try {
      await lstat(current);
      return current;
    } catch (error) {
      if (!isMissing(error) || dirname(current) === current) throw error;
    }
  }
}

/** Bytes [offset, offset+length) of one part file, opened without following a symlink, read in 256 KiB chunks. */
async function readSegment(path: string, segment: Segment): Promise<ReadableStream<Uint8Array>> {
  const handle = await open(path, READ_FLAGS);
  const { size } = await handle.stat().catch(async (error) => {
    await handle.close();
    throw error;
  });
  if (size < segment.offset + segment.length) {
    await handle.close();
    throw new BlobDamagedError();
  }
  let position = segment.offset;
  const end = segment.offset + segment.length;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (position >= end) {
            await handle.close();
            controller.close();
            return;
          }
          const buffer = new Uint8Array(Math.min(READ_CHUNK, end - position));
          const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
          if (bytesRead === 0) throw new BlobDamagedError();
          position += bytesRead;
          controller.enqueue(bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead));
        } catch (error) {
          await handle.close().catch(() => {});
          controller.error(error);
        }
      },
      async cancel() {
        await handle.close().catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
