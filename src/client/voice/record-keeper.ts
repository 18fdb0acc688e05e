// The call log this tab keeps as the caller (records.ts), its snapshot in localStorage
// (pending-records.ts) and the order of its writes: records go out one after the other, so
// "Started a call" always precedes the closing record in the conversation.
import type { CallRecord } from "../chat/call-record.ts";
import { closeAbandoned, dropPending, HEARTBEAT_MS, savePending } from "./pending-records.ts";
import { CallLog, type CallLogSnapshot } from "./records.ts";

type Send = (channelId: string, scheme: "pw" | "sk", record: CallRecord) => Promise<void>;

export class RecordKeeper {
  log: CallLog | null = null;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: Send,
    private readonly failed: () => void,
  ) {}

  private write(channelId: string, scheme: "pw" | "sk", record: CallRecord): void {
    this.queue = this.queue.then(() => this.send(channelId, scheme, record).catch(this.failed));
  }

  /** This tab writes the call's record (it rang as the caller, or resumes that log after a reload). */
  open(from: Pick<CallLogSnapshot, "channelId" | "scheme"> & Partial<CallLogSnapshot>): void {
    this.forget();
    const log: CallLog = new CallLog(from, (record) => this.write(from.channelId, from.scheme, record), (s) => (s ? savePending(s) : dropPending(log.id)));
    this.log = log;
    savePending(log.snapshot());
    this.heartbeat = setInterval(() => log.alive(), HEARTBEAT_MS);
  }

  /** The tab stops writing the log (its snapshot, if still open, stays for a later page). */
  forget(): void {
    clearInterval(this.heartbeat);
    this.log = null;
  }

  /** The call ended here: the closing record, then nothing more. */
  finish(): void {
    this.log?.finish();
    this.forget();
  }

  /** Closing records of calls whose tab went away (closed, crashed), written now (pending-records.ts). */
  closeAbandoned(seatedIn: string | null, except: string | null): Promise<void> {
    return closeAbandoned(seatedIn, except, (s, record) => new Promise<void>((resolve, reject) => {
      this.queue = this.queue.then(() => this.send(s.channelId, s.scheme, record).then(resolve, reject));
    }));
  }
}
