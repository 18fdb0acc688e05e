// The state every part of the chat engine shares (engine.ts and its engine-*.ts parts): the
// device, its pairwise sessions, sender keys and message-key archive as last loaded, the persisted
// record they are saved into, this page's key-request bookkeeping, and the one queue every
// operation runs through (`run`): ratchet and chain states change one at a time.

import {
  decodeBase64url,
  encodeBase64url,
  encodeUtf8,
  MessageKeyArchive,
  restoreDeviceIdentity,
  restorePairwiseSession,
  restoreSenderKeyStore,
  serialiseDeviceIdentity,
  serialisePairwiseSession,
  serialiseSenderKeyStore,
  type DeviceIdentity,
  type KeyStore,
  type PairwiseSession,
  type SenderKeyStore,
} from "../e2ee/library.ts";
import type { Api } from "./api.ts";
import { AnswerLimiter, type ForwardedKey, type PendingKey } from "./key-requests.ts";
import type { DeviceRef } from "./recipients.ts";
import type { ViewerList } from "./viewers.ts";

/** Where this browser keeps its device (trust-ui.ts reads its id on the settings page: keep in step). */
export const DEVICE_RECORD = "chat:device";
export const STATE_RECORD = "chat:state";
export const RECOVERY_RECORD = "chat:recovery";

export type Ad = { ad: string; entry: string };
type Restored = { deviceId: string; adByPeer: Record<string, string[]> };

export interface PersistedState {
  v: 1;
  registered: boolean;
  sessions: Record<string, unknown[]>;
  senderKeys: Record<string, unknown>;
  archive: Record<string, unknown>;
  /** Pairwise history: per message id, the associated data and which envelope entry the key opens. */
  ads: Record<string, Ad>;
  /** Per channel: the own sender key id and the devices holding it. */
  distributed: Record<string, { keyId: number; devices: string[] }>;
  toDeviceAfter: string | null;
  backupVersion: number;
  restored: Restored[];
  needsRestore?: boolean;
  /** Keys this device asked other devices for (key-requests.ts), by item id. */
  keyRequests?: Record<string, PendingKey>;
  /** Keys other devices forwarded, not yet proven to open their item: [key, from device]. */
  forwarded?: Record<string, [ForwardedKey, string][]>;
}

/** Counters for tests, the soak and curious readers (also on <html data-e2ee-stats>). */
export type EngineStats = {
  distributionsSent: number;
  distributionsReceived: number;
  keyRequestsSent: number;
  keyRequestItems: number;
  keyForwardsSent: number;
  keysForwarded: number;
  refusalsSent: number;
  keysOffered: number;
  keysAccepted: number;
  refusalsReceived: number;
  toDeviceBytesSent: number;
};

/** Key requests from one device for one channel (to answer), or to withdraw from it. */
export type KeyAsk = { ref: DeviceRef; c: string; i: Set<string> };

export class EngineState {
  private queue: Promise<unknown> = Promise.resolve();
  private lastSaved = "";
  readonly sessions = new Map<string, PairwiseSession[]>();
  senderKeys!: SenderKeyStore;
  archive!: MessageKeyArchive;
  /** Readers of the channels on screen (viewers.ts), for "sent before you joined" and whom to ask. */
  readonly contexts = new Map<string, ViewerList>();
  readonly holders = new Map<string, { at: number; refs: DeviceRef[]; online: Set<string> }>();
  /** Requests to withdraw from devices that were asked for an item that opened meanwhile. */
  readonly cancels = new Map<string, KeyAsk>();
  readonly limiter = new AnswerLimiter();
  keyFlushTimer: ReturnType<typeof setTimeout> | undefined;
  forceChannel: string | null = null;
  backupTimer: ReturnType<typeof setTimeout> | undefined;
  readonly stats: EngineStats = { distributionsSent: 0, distributionsReceived: 0, keyRequestsSent: 0, keyRequestItems: 0, keyForwardsSent: 0, keysForwarded: 0, refusalsSent: 0, keysOffered: 0, keysAccepted: 0, refusalsReceived: 0, toDeviceBytesSent: 0 };

  constructor(
    readonly userId: string,
    readonly store: KeyStore,
    public device: DeviceIdentity,
    public state: PersistedState,
    /** How this engine reaches the server (the page's API in a browser). */
    readonly api: Api,
  ) {
    this.load();
  }

  /** Sessions, sender keys and the archive as the persisted record has them. */
  private load(): void {
    this.sessions.clear();
    for (const [k, list] of Object.entries(this.state.sessions)) this.sessions.set(k, list.map(restorePairwiseSession));
    this.senderKeys = restoreSenderKeyStore(this.state.senderKeys);
    this.archive = MessageKeyArchive.restore(this.state.archive);
  }

  /**
   * One operation at a time, in this tab and across the browser's tabs (Web Locks): each
   * operation starts from the stored state (another tab may have advanced a ratchet or received
   * a sender key) and saves before the lock is released.
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const task = () => this.withLock(async () => {
      await this.reload();
      return fn();
    });
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => {});
    return next;
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    return locks ? (locks.request(`hearth-chat-${this.userId}`, fn) as Promise<T>) : fn();
  }

  private async reload(): Promise<void> {
    const stored = await this.store.get(STATE_RECORD);
    if (!stored || stored === this.lastSaved) return;
    const device = await this.store.get(DEVICE_RECORD);
    if (device) this.device = restoreDeviceIdentity(JSON.parse(device));
    this.state = JSON.parse(stored) as PersistedState;
    this.state.restored ??= [];
    this.load();
    this.lastSaved = stored;
  }

  async save(): Promise<void> {
    const sessions: Record<string, unknown[]> = {};
    for (const [k, list] of this.sessions) sessions[k] = list.map(serialisePairwiseSession);
    this.state.sessions = sessions;
    this.state.senderKeys = serialiseSenderKeyStore(this.senderKeys);
    this.state.archive = this.archive.serialise();
    const state = JSON.stringify(this.state);
    await this.store.put(DEVICE_RECORD, JSON.stringify(serialiseDeviceIdentity(this.device)));
    await this.store.put(STATE_RECORD, state);
    this.lastSaved = state;
  }

  /** Counts an event and publishes the stats at once (tests read them while the engine works). */
  count(name: keyof EngineStats, n = 1): void {
    this.stats[name] += n;
    this.publishStats();
  }

  private publishStats(): void {
    if (typeof document !== "undefined") document.documentElement.dataset.e2eeStats = JSON.stringify(this.stats);
  }
}

export const toWire = (obj: unknown): string => encodeBase64url(encodeUtf8(JSON.stringify(obj)));
export const fromWire = (text: string): Uint8Array => decodeBase64url(text);
