// Key requests between devices (issue 11 §2–3, docs/crypto.md "Key requests"): the wire format of
// the three to-device messages, whom to ask for which item, when to ask again, and what the
// reader is told meanwhile. Pure; the engine does the I/O (engine-key-requests.ts,
// engine-to-device.ts) and unit tests cover this.
//
//   kr  {t, c: channel, i: [item ids]}                      "please forward these keys"
//   kf  {t, c, k: [[id, key, ad?, entry?]], n: [[id, why]]}  keys (ad/entry for pairwise items)
//                                                           and the items not given, with why
//   kc  {t, c, i: [item ids]}                               "answered, forget my request"
//
// They travel like Sender Key distributions: inside one Double Ratchet message per device, so
// the server sees sizes only. Item ids are message ids, or `poll:<id>` for a poll's question.

import { encodeUtf8, decodeUtf8 } from "../e2ee/library.ts";
import { deviceKey, type DeviceRef } from "./recipients.ts";

export type ForwardedKey = [id: string, key: string, ad?: string, entry?: string];
export type KeyMessage = { t: "kr"; c: string; i: string[] } | { t: "kf"; c: string; k: ForwardedKey[]; n: [string, string][] } | { t: "kc"; c: string; i: string[] };

/** Why a responder gave no key: the server's entitlement answer, or it does not hold it. */
export type Refusal = "NOT_A_VIEWER" | "BEFORE_JOINED" | "NOT_FOUND" | "UNAVAILABLE";

/** A key this device waits for (persisted with the engine state, so a reload keeps the clock). */
export type PendingKey = {
  /** channel */
  c: string;
  /** the sender's user and device */
  s: string;
  d: string;
  /** first and last time asked (ms; 0 = not asked yet), flushes so far, not again before */
  at: number;
  last: number;
  n: number;
  next: number;
  /** device key → when it was asked */
  asked: Record<string, number>;
  /** a responder refused for a reason every responder shares (the server's answer) */
  refused?: "BEFORE_JOINED" | "NOT_A_VIEWER";
};

/** Ask again after 15 s, 1 min, 5 min, 15 min, then every 30 min (new holders may be online). */
export const KEY_RETRY_MS = [15_000, 60_000, 300_000, 900_000, 1_800_000] as const;
/**
 * After a first round that asked the sender's device alone: ask everyone else this soon. The
 * server knows that the sender's USER is online, not which device (it may be another tab, or a
 * device revoked since the reader's list was fetched): the UTD soak found readers waiting the
 * whole 15 s for a device that was never going to answer.
 */
export const SENDER_FIRST_WAIT_MS = 3_000;
/** One device is asked for one item at most this often (unless the reader presses Retry). */
export const REASK_SAME_DEVICE_MS = 600_000;
export const MAX_ITEMS_PER_MESSAGE = 200;
/** Keys per forward message: ~130 bytes each, well under the 64 KiB to-device limit. */
export const MAX_KEYS_PER_MESSAGE = 300;
/** Items waited for at once; beyond it the oldest are dropped (they are asked again when shown). */
export const MAX_PENDING = 5_000;
/** A responder answers one requesting device at most this many times a minute. */
export const ANSWERS_PER_MINUTE = 20;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64 = /^[A-Za-z0-9_-]+$/;
const DEVICE = /^[A-Za-z0-9_-]{1,64}$/;
export const isItemId = (v: unknown): v is string => typeof v === "string" && UUID.test(v.startsWith("poll:") ? v.slice(5) : v);
const REFUSALS: readonly string[] = ["NOT_A_VIEWER", "BEFORE_JOINED", "NOT_FOUND", "UNAVAILABLE"];

export function encodeKeyMessage(m: KeyMessage): Uint8Array {
  return encodeUtf8(JSON.stringify(m));
}

/** The key message in a to-device plaintext; null for anything else (a distribution) or a malformed one. */
export function parseKeyMessage(bytes: Uint8Array): KeyMessage | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(decodeUtf8(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || typeof v.c !== "string" || !UUID.test(v.c)) return null;
  const list = (x: unknown, max: number) => Array.isArray(x) && x.length <= max;
  if ((v.t === "kr" || v.t === "kc") && list(v.i, MAX_ITEMS_PER_MESSAGE) && (v.i as unknown[]).every(isItemId)) return { t: v.t, c: v.c, i: v.i as string[] };
  if (v.t === "kf" && list(v.k, MAX_KEYS_PER_MESSAGE) && list(v.n, MAX_ITEMS_PER_MESSAGE)) {
    const keysOk = (v.k as unknown[]).every(
      (e) => Array.isArray(e) && e.length >= 2 && e.length <= 4 && isItemId(e[0]) && typeof e[1] === "string" && e[1].length === 43 && B64.test(e[1]) && (e[2] === undefined || (typeof e[2] === "string" && e[2].length <= 400 && B64.test(e[2]))) && (e[3] === undefined || (typeof e[3] === "string" && DEVICE.test(e[3]))),
    );
    const refusedOk = (v.n as unknown[]).every((e) => Array.isArray(e) && e.length === 2 && isItemId(e[0]) && REFUSALS.includes(e[1] as string));
    if (keysOk && refusedOk) return { t: "kf", c: v.c, k: v.k as ForwardedKey[], n: v.n as [string, string][] };
  }
  return null;
}

export type RequestTargets = {
  /** Devices of the channel's readers (only a reader's device can be asked as the sender's). */
  readers: ReadonlyMap<string, readonly string[]>;
  /** This user's other devices. */
  own: readonly DeviceRef[];
  /** Other readers' devices the server picked (key-holders). */
  holders: readonly DeviceRef[];
  /** Users the server said are online (key-holders). */
  online: ReadonlySet<string>;
};

/**
 * Which devices to ask for which waiting items of `channelId` now, and marks them asked: each
 * item goes to its sender's device (if still a reader's), this user's other devices and the
 * picked holders — except the first time when its sender is online: then the sender's device
 * alone (with our own), which holds every key it sent, so a joiner's history is not forwarded
 * twice; the others follow SENDER_FIRST_WAIT_MS later if the sender's device has not answered.
 * An item is due when its retry time came (or `force`), and one device is asked for one
 * item at most every REASK_SAME_DEVICE_MS (unless `force`).
 */
export function planKeyRequests(pending: Record<string, PendingKey>, channelId: string, self: DeviceRef, targets: RequestTargets, now: number, force = false): Map<string, { ref: DeviceRef; items: string[] }> {
  const out = new Map<string, { ref: DeviceRef; items: string[] }>();
  const selfKey = deviceKey(self);
  for (const [id, p] of Object.entries(pending)) {
    if (p.c !== channelId || p.refused || (!force && now < p.next)) continue;
    const senderIsReader = !!p.s && !!targets.readers.get(p.s)?.includes(p.d);
    const senderFirst = senderIsReader && p.n === 0 && !force && targets.online.has(p.s);
    const refs: DeviceRef[] = senderFirst ? [...targets.own] : [...targets.own, ...targets.holders];
    if (senderIsReader) refs.unshift({ userId: p.s, deviceId: p.d });
    let any = false;
    for (const ref of refs) {
      const key = deviceKey(ref);
      if (key === selfKey) continue;
      const askedAt = p.asked[key];
      if (!force && askedAt !== undefined && now - askedAt < REASK_SAME_DEVICE_MS) continue;
      const entry = out.get(key) ?? { ref, items: [] };
      if (!entry.items.includes(id)) entry.items.push(id);
      out.set(key, entry);
      p.asked[key] = now;
      any = true;
    }
    if (any) {
      p.n += 1;
      p.next = now + (senderFirst ? SENDER_FIRST_WAIT_MS : KEY_RETRY_MS[Math.min(p.n - 1, KEY_RETRY_MS.length - 1)]!);
      p.at ||= now;
      p.last = now;
    } else p.next = now + KEY_RETRY_MS[0]; // nobody to ask yet (no reader's device known): look again soon
  }
  return out;
}

/** Splits a list into pieces of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Keeps at most MAX_PENDING items, dropping the oldest asked. */
export function prunePending(pending: Record<string, PendingKey>): void {
  const ids = Object.keys(pending);
  if (ids.length <= MAX_PENDING) return;
  ids.sort((a, b) => pending[a]!.last - pending[b]!.last);
  for (const id of ids.slice(0, ids.length - MAX_PENDING)) delete pending[id];
}

/** "asked 12 s ago" / "asked 3 min ago" / "asking…". */
export function askedAgo(p: PendingKey | undefined, now: number): string {
  if (!p?.last) return "asking now";
  const secs = Math.max(0, Math.round((now - p.last) / 1000));
  return secs < 120 ? `asked ${secs} s ago` : `asked ${Math.round(secs / 60)} min ago`;
}

/** Per requesting device, at most ANSWERS_PER_MINUTE answers in any minute (in memory). */
export class AnswerLimiter {
  private readonly times = new Map<string, number[]>();
  allow(from: string, now: number): boolean {
    const recent = (this.times.get(from) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= ANSWERS_PER_MINUTE) return false;
    recent.push(now);
    this.times.set(from, recent);
    return true;
  }
}
