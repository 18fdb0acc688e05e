/**
 * DATA_DIR holds the embedded database, generated secrets and (by default) uploads: nothing in it
 * is for other local users. main.ts sets the process umask to 077 before anything is created, and
 * `restrictDataDir` makes DATA_DIR itself 0700 and takes group/other bits off everything already
 * inside it. The pass matters even with the umask: PGlite unpacks its initial database with
 * explicit chmods to 0666 (umask does not apply to chmod), and a DATA_DIR made by an older
 * version, a Docker image or an operator's `mkdir` is usually 0755.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** What the process creates: owner-only files (0600) and directories (0700). */
export const PROCESS_UMASK = 0o077;
const GROUP_OTHER_BITS = 0o077;

export type RestrictResult = {
  /** Paths whose mode was narrowed (DATA_DIR itself included). */
  fixed: string[];
  /** Paths whose mode could not be changed (another owner), with the error code. */
  failed: { path: string; code: string }[];
};

/**
 * Creates DATA_DIR 0700 when missing; otherwise removes group and other permission bits from it
 * and from every file and directory below it. Symbolic links are neither followed nor changed
 * (their target may be outside DATA_DIR and is the operator's business).
 */
export function restrictDataDir(dir: string): RestrictResult {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const result: RestrictResult = { fixed: [], failed: [] };
  const visit = (path: string) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return; // removed meanwhile (a PGlite temp file): nothing to protect
    }
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & GROUP_OTHER_BITS) !== 0) {
      try {
        chmodSync(path, stat.mode & 0o7700);
        result.fixed.push(path);
      } catch (error) {
        result.failed.push({ path, code: (error as NodeJS.ErrnoException).code ?? "UNKNOWN" });
      }
    }
    if (!stat.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      result.failed.push({ path, code: (error as NodeJS.ErrnoException).code ?? "UNKNOWN" });
      return;
    }
    for (const name of names) visit(join(path, name));
  };
  visit(dir);
  return result;
}
