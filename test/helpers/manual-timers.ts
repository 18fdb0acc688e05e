/**
 * Timers on a clock the test advances (src/timers.ts): a grace period or an auto-stop ends when
 * the test calls advance(), however slow the machine is, and "nothing happened during the grace"
 * is checked without sleeping through it.
 */
import type { TimerHandle, Timers } from "../../src/timers.ts";

type Scheduled = { id: number; at: number; fn: () => void };

export class ManualTimers implements Timers {
  private nowMs = 0;
  private nextId = 1;
  private readonly scheduled = new Map<number, Scheduled>();

  set(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.scheduled.set(id, { id, at: this.nowMs + Math.max(0, ms), fn });
    return id;
  }

  clear(handle: TimerHandle): void {
    if (typeof handle === "number") this.scheduled.delete(handle);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.scheduled.size;
  }

  /** Moves the clock forward by `ms`, firing due timers in time order (and those they set). */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let next: Scheduled | undefined;
      for (const s of this.scheduled.values()) if (s.at <= target && (!next || s.at < next.at || (s.at === next.at && s.id < next.id))) next = s;
      if (!next) break;
      this.scheduled.delete(next.id);
      this.nowMs = next.at;
      next.fn();
    }
    this.nowMs = target;
  }
}
