/**
 * setTimeout behind an interface, for behaviour driven by timers (presence grace and batching,
 * typing auto-stop): production uses the real clock; tests pass timers they advance themselves,
 * so a grace period is "over" when the test says so, not when a loaded machine gets round to it.
 */
export type TimerHandle = unknown;

export interface Timers {
  /** Runs `fn` once after `ms`; never keeps the process alive on its own. */
  set(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

export const realTimers: Timers = {
  set(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  },
  clear(handle) {
    if (handle !== undefined) clearTimeout(handle as Timer);
  },
};
