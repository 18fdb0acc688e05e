// A call record (docs/voice.md "Call records"): what the caller's client writes into a DM or group
// DM about a call, as an ordinary encrypted message whose plaintext carries `call` next to `text`
// ({v: 1, text, call}). Readers draw it from `call` as a compact row in their own words; `text`
// (the same words) is for places that show a message's text (previews, replies) and older clients.

export type CallEvent = "started" | "missed" | "declined" | "ended";
export type CallRecord = { event: CallEvent; seconds?: number };

const WORDS: Record<CallEvent, string> = { started: "Started a call", missed: "Missed call", declined: "Call declined", ended: "Call ended" };

/** The record in a decrypted plaintext's `call`, or undefined when it is not a valid one. */
export function parseCallRecord(value: unknown): CallRecord | undefined {
  const o = value as { event?: unknown; seconds?: unknown } | null;
  if (!o || typeof o !== "object" || typeof o.event !== "string" || !Object.hasOwn(WORDS, o.event)) return undefined;
  const event = o.event as CallEvent;
  const s = o.seconds;
  return typeof s === "number" && Number.isSafeInteger(s) && s >= 0 && s < 1e7 ? { event, seconds: s } : { event };
}

/** "Call ended · 12 min"; seconds under a minute, hours past an hour. */
export function describeCall(r: CallRecord): string {
  const s = r.seconds;
  if (r.event !== "ended" || s === undefined) return WORDS[r.event];
  const length = s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${WORDS.ended} · ${length}`;
}
