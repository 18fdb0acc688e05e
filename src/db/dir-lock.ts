/**
 * Exclusive lock on the embedded database directory. PGlite has no inter-process lock: a second
 * process on the same directory writes happily and its rows vanish when the first closes
 * (stack-spike §4). We take flock(2) on DATA_DIR/db.lock, which the kernel releases when the
 * process dies, so a crash never leaves a stale lock behind.
 */
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const LOCK_EX = 2;
const LOCK_NB = 4;

let libc: { symbols: { flock: (fd: number, op: number) => number } } | undefined;
function loadLibc() {
  if (!libc) {
    const path = process.platform === "darwin" ? "libc.dylib" : "libc.so.6";
    libc = dlopen(path, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  }
  return libc;
}

export class DataDirLockedError extends Error {
  constructor(readonly dir: string) {
    super(
      `The data directory ${dir} is already in use by another Hearth process. ` +
        `The embedded database allows only one process at a time (a second writer would silently lose data). ` +
        `Stop the other process, or use PostgreSQL (DATABASE_URL) to run several instances.`,
    );
    this.name = "DataDirLockedError";
  }
}

export type DirLock = { release(): void };

export function lockDataDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "db.lock");
  const fd = openSync(path, "a+");
  if (loadLibc().symbols.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    throw new DataDirLockedError(dir);
  }
  // The pid is informational only (for operators); the flock is what protects the data.
  writeFileSync(path, `${process.pid}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      closeSync(fd); // closing the descriptor drops the flock
    },
  };
}
