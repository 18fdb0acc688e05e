// Call logs in progress, kept in localStorage (records.ts): the caller's tab saves its log after
// every change and every HEARTBEAT_MS while the call lasts. A tab that reloads mid-call resumes its
// log; a log left behind by a tab that closed or crashed is closed by the next page of the app that
// loads the call client, once the server says the user no longer sits in that call, with the
// length up to the last moment the tab was known alive. A Web Lock makes one tab do it.
import { closingRecord, type CallLogSnapshot } from "./records.ts";
import type { CallRecord } from "../chat/call-record.ts";

const KEY = "hearth.voice.records";
export const HEARTBEAT_MS = 10_000;
/** A log older than this is dropped unwritten (a week-old call is not worth a record now). */
const MAX_AGE_MS = 7 * 24 * 3600_000;

function readAll(): Record<string, CallLogSnapshot> {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? "{}") as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, CallLogSnapshot>) : {};
  } catch {
    return {};
  }
}

function writeAll(all: Record<string, CallLogSnapshot>): void {
  try {
    if (Object.keys(all).length) localStorage.setItem(KEY, JSON.stringify(all));
    else localStorage.removeItem(KEY);
  } catch {
    // storage full or blocked: the record of a closed tab is lost, nothing else
  }
}

export function savePending(s: CallLogSnapshot): void {
  writeAll({ ...readAll(), [s.id]: s });
}

export function dropPending(id: string): void {
  const all = readAll();
  delete all[id];
  writeAll(all);
}

export function findPending(id: string): CallLogSnapshot | undefined {
  return readAll()[id];
}

const valid = (s: CallLogSnapshot): boolean =>
  !!s && typeof s.id === "string" && typeof s.channelId === "string" && (s.scheme === "pw" || s.scheme === "sk") && typeof s.aliveAt === "number" && typeof s.answeredAt === "number";

/**
 * Closes the logs no tab is writing any more: not `except` (a log this tab resumes) and not in the
 * call the user still sits in (`seatedIn`: another tab of theirs may be writing it). Each started
 * log gets its closing record through `send`; a log whose send fails stays for the next page.
 */
export async function closeAbandoned(seatedIn: string | null, except: string | null, send: (s: CallLogSnapshot, record: CallRecord) => Promise<void>): Promise<void> {
  const run = async () => {
    for (const s of Object.values(readAll())) {
      if (!valid(s)) {
        dropPending(String((s as { id?: unknown })?.id));
        continue;
      }
      if (s.id === except || s.channelId === seatedIn) continue;
      if (Date.now() - s.aliveAt > MAX_AGE_MS || !s.started) {
        dropPending(s.id);
        continue;
      }
      try {
        await send(s, closingRecord(s, s.aliveAt));
        dropPending(s.id);
      } catch {
        // offline or the conversation is gone: tried again on a later page
      }
    }
  };
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (locks) await locks.request(KEY, { ifAvailable: true }, async (lock) => (lock ? run() : undefined));
  else await run();
}
