/**
 * Shared by the load harness's processes: a mergeable latency histogram (log buckets, 2 %
 * resolution from 0.01 ms to ~10 min) and /proc readers for CPU time and RSS of a process.
 */
import { readFileSync } from "node:fs";

const BASE = 1.02;
const MIN_MS = 0.01;
const BUCKETS = 1000;

export type ActionStats = { count: number; errors: number; status5xx: number; sumMs: number; buckets: Record<number, number>; codes: Record<string, number> };

export function emptyStats(): ActionStats {
  return { count: 0, errors: 0, status5xx: 0, sumMs: 0, buckets: {}, codes: {} };
}

export function record(s: ActionStats, ms: number, error?: string, is5xx = false): void {
  s.count++;
  s.sumMs += ms;
  const b = Math.min(BUCKETS - 1, Math.max(0, Math.ceil(Math.log(Math.max(ms, MIN_MS) / MIN_MS) / Math.log(BASE))));
  s.buckets[b] = (s.buckets[b] ?? 0) + 1;
  if (error) {
    s.errors++;
    s.codes[error] = (s.codes[error] ?? 0) + 1;
  }
  if (is5xx) s.status5xx++;
}

export function merge(into: ActionStats, from: ActionStats): void {
  into.count += from.count;
  into.errors += from.errors;
  into.status5xx += from.status5xx;
  into.sumMs += from.sumMs;
  for (const [b, n] of Object.entries(from.buckets)) into.buckets[Number(b)] = (into.buckets[Number(b)] ?? 0) + n;
  for (const [c, n] of Object.entries(from.codes)) into.codes[c] = (into.codes[c] ?? 0) + n;
}

/** The q-quantile in ms (upper edge of its bucket: within 2 %). */
export function quantile(s: ActionStats, q: number): number {
  if (s.count === 0) return NaN;
  const target = Math.ceil(q * s.count);
  let seen = 0;
  for (const b of Object.keys(s.buckets).map(Number).sort((x, y) => x - y)) {
    seen += s.buckets[b]!;
    if (seen >= target) return MIN_MS * BASE ** b;
  }
  return NaN;
}

/** utime + stime of a process in seconds, or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes (VmRSS), or NaN. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK); not exposed to JavaScript. */
const CLOCK_TICKS = 100;
