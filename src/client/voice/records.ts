// The call record the caller's client writes into a DM or group DM (docs/voice.md "Call records"):
// "Started a call" once the server rang someone, then exactly one of "Missed call" (nobody
// answered before every ring ended or the caller hung up), "Call declined" (likewise, and someone
// declined) or "Call ended · 12 min" (from the first answer until everyone else left or the caller
// hung up). Each goes out as an ordinary encrypted message (host.sendRecord); the server keeps no
// call history.
//
// The log's state is kept in localStorage while the call lasts (pending-records.ts), so a call
// whose caller's tab reloads carries on with the same log, and one whose tab closed or crashed
// gets its closing record from the next page of the app that loads the call client.
import type { CallRecord } from "../chat/call-record.ts";

export type CallLogSnapshot = {
  id: string;
  channelId: string;
  scheme: "pw" | "sk";
  started: boolean;
  answeredAt: number;
  declined: boolean;
  ringing: string[];
  /** Last moment the caller's tab was known alive in the call (heartbeat, page hide). */
  aliveAt: number;
};

/** The one closing record for a log (what finish() writes), given when the call stopped. */
export function closingRecord(s: Pick<CallLogSnapshot, "answeredAt" | "declined">, endedAt: number): CallRecord {
  return s.answeredAt ? { event: "ended", seconds: Math.max(0, Math.round((endedAt - s.answeredAt) / 1000)) } : { event: s.declined ? "declined" : "missed" };
}

export class CallLog {
  private done = false;
  private readonly s: CallLogSnapshot;

  constructor(
    from: Pick<CallLogSnapshot, "channelId" | "scheme"> & Partial<CallLogSnapshot>,
    private readonly write: (record: CallRecord) => void,
    /** Told after every change (to keep the snapshot), and with null once the log is closed. */
    private readonly changed: (snapshot: CallLogSnapshot | null) => void = () => {},
  ) {
    this.s = { id: crypto.randomUUID(), started: false, answeredAt: 0, declined: false, ringing: [], aliveAt: Date.now(), ...from };
  }

  get id(): string {
    return this.s.id;
  }

  /** Callees still ringing (none: nobody is waited for). */
  get ringingCount(): number {
    return this.s.ringing.length;
  }

  get answered(): boolean {
    return this.s.answeredAt > 0;
  }

  snapshot(): CallLogSnapshot {
    return { ...this.s, ringing: [...this.s.ringing] };
  }

  /** The tab is alive in the call (heartbeat, page hide): the length a later page would record. */
  alive(): void {
    if (this.done) return;
    this.s.aliveAt = Date.now();
    this.changed(this.snapshot());
  }

  /** voice:ringing: the people the server rang (none: everyone was left out, nothing to record). */
  rang(userIds: string[]): void {
    if (!userIds.length || this.done) return;
    this.s.ringing = [...new Set([...this.s.ringing, ...userIds])];
    if (!this.s.started) {
      this.s.started = true;
      this.write({ event: "started" });
    }
    this.alive();
  }

  /** Someone else sat down in the call (an answer, from any of their devices). */
  answer(): void {
    if (this.s.answeredAt || this.done) return;
    this.s.answeredAt = Date.now();
    this.alive();
  }

  ringEnded(calleeId: string, reason: string): void {
    this.s.ringing = this.s.ringing.filter((id) => id !== calleeId);
    if (reason === "ANSWERED") this.answer();
    if (reason === "DECLINED") this.s.declined = true;
    if (!this.s.ringing.length && !this.s.answeredAt) this.finish();
    else this.alive();
  }

  /** Everyone else left an answered call: it is over for the record, even if the caller lingers. */
  othersLeft(): void {
    if (this.s.answeredAt) this.finish();
  }

  /** The caller hangs up (or the call ends for them): the one closing record, once. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.s.started) this.write(closingRecord(this.s, Date.now()));
    this.changed(null);
  }
}
