// The call record the caller's client writes into a DM or group DM (docs/voice.md "Call records"):
// "Started a call" once the server rang someone, then exactly one of "Missed call" (nobody
// answered before every ring ended or the caller hung up), "Call declined" (likewise, and someone
// declined) or "Call ended · 12 min" (from the first answer until everyone else left or the caller
// hung up). Each goes out as an ordinary encrypted message (host.sendRecord); the server keeps no
// call history.
import type { CallRecord } from "../chat/call-record.ts";

export class CallLog {
  private started = false;
  private done = false;
  private answeredAt = 0;
  private declined = false;
  private readonly ringing = new Set<string>();

  constructor(private readonly write: (record: CallRecord) => void) {}

  /** voice:ringing: the people the server rang (none: everyone was left out, nothing to record). */
  rang(userIds: string[]): void {
    if (!userIds.length || this.done) return;
    for (const id of userIds) this.ringing.add(id);
    if (this.started) return;
    this.started = true;
    this.write({ event: "started" });
  }

  /** Someone else sat down in the call (an answer, from any of their devices). */
  answered(): void {
    this.answeredAt ||= Date.now();
  }

  ringEnded(calleeId: string, reason: string): void {
    this.ringing.delete(calleeId);
    if (reason === "ANSWERED") this.answered();
    if (reason === "DECLINED") this.declined = true;
    if (!this.ringing.size && !this.answeredAt) this.finish();
  }

  /** Everyone else left an answered call: it is over for the record, even if the caller lingers. */
  othersLeft(): void {
    if (this.answeredAt) this.finish();
  }

  /** The caller hangs up (or the call ends for them): the one closing record, once. */
  finish(): void {
    if (!this.started || this.done) return;
    this.done = true;
    this.write(this.answeredAt ? { event: "ended", seconds: Math.round((Date.now() - this.answeredAt) / 1000) } : { event: this.declined ? "declined" : "missed" });
  }
}
