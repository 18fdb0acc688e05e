/**
 * A cross-process lock on a directory path: mkdir is atomic, so exactly one process creates it.
 * The holder's pid is written inside; a lock whose holder died (a killed test run) is taken over
 * instead of waited on forever.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function tryAcquire(lockDir: string): boolean {
  try {
    mkdirSync(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(join(lockDir, "pid"), "utf8"));
    } catch {
      // Created but no pid yet: the holder is between mkdir and write, or died right there.
      const created = statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;
      if (created !== undefined && Date.now() - created > 10_000) rmSync(lockDir, { recursive: true, force: true });
      return false;
    }
    if (Number.isInteger(holder) && !isAlive(holder)) rmSync(lockDir, { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(lockDir, "pid"), String(process.pid));
  return true;
}

/** Runs `fn` holding the lock; waits (bounded by `timeoutMs`) while another live process holds it. */
export async function withDirectoryLock<T>(lockDir: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!tryAcquire(lockDir)) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for the lock ${lockDir} (remove it if no build is running)`);
    await Bun.sleep(50);
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
