// This browser's E2EE device as the chat uses it: identity in an IndexedDB store wrapped by a
// non-extractable key, registration with the key service, prekey upkeep, pairwise sessions,
// sender keys, the message-key archive for history, to-device key distribution, key requests
// (asking other devices for a missing key and answering their requests: key-requests.ts) and key
// backup. Every operation runs through one queue: ratchet and chain states change one at a time.

import {
  acceptServerIdentity,
  acknowledgePersonChange,
  checkContactIdentity,
  checkPersonDevices,
  checkServerIdentityProof,
  getDeviceIdentityKeyBytes,
  markPersonVerified,
  countOneTimePrekeysToGenerate,
  createDeviceIdentity,
  createKeyBackup,
  decodeBase64url,
  decodeUtf8,
  decryptGroupMessage,
  decryptGroupMessageWithKey,
  decryptRatchetMessageWithKey,
  encodeBase64url,
  encodeDevicePublicBundle,
  encodeIdentityKeyBytes,
  encodeKeyBackupBlob,
  encodePairwiseEnvelope,
  encodePrekeyUpload,
  encodeRatchetMessage,
  encodeSenderKeyDistributionBytes,
  encodeSenderKeyMessage,
  encodeUtf8,
  encryptForDevices,
  encryptGroupMessage,
  exportDevicePublicBundle,
  formatRecoveryKey,
  generateOneTimePrekeys,
  generateRecoveryKey,
  IndexedDbKeyStore,
  MessageKeyArchive,
  parseKeyBackupBlob,
  parsePairwiseEnvelope,
  parsePrekeyBundleList,
  parseRatchetMessage,
  parseRecoveryKey,
  parseSenderKeyMessage,
  promoteSession,
  receivePairwiseMessage,
  restoreDeviceIdentity,
  restoreKeyBackup,
  restorePairwiseSession,
  restoreSenderKeyStore,
  rotateSignedPrekey,
  SenderKeyStore,
  serialiseDeviceIdentity,
  serialisePairwiseSession,
  serialiseSenderKeyStore,
  shouldRotateSignedPrekey,
  startSessionAsInitiator,
  type DeviceIdentity,
  type KeyStore,
  type OwnSenderKey,
  type PairwiseSession,
} from "../e2ee/library.ts";
import { computeSha512, signBytes, verifySignature } from "../e2ee/primitives.ts";
import { SIGNED_CONTEXT } from "../../shared/call-attestation.ts";
import { parseCallRecord, type CallRecord } from "./call-record.ts";
import { checkReceivedText, describeLimit, MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";
import { ApiError, pageApi, type Api } from "./api.ts";
import { AnswerLimiter, askedAgo, chunk, encodeKeyMessage, MAX_ITEMS_PER_MESSAGE, MAX_KEYS_PER_MESSAGE, parseKeyMessage, planKeyRequests, prunePending, type ForwardedKey, type KeyMessage, type PendingKey, type Refusal } from "./key-requests.ts";
import { deviceKey, planSenderKey, type DeviceRef } from "./recipients.ts";
import { authorName, normaliseMessage, type ChatMessage, type Scheme } from "./types.ts";
import { Viewers, type ViewerList } from "./viewers.ts";

/** Where this browser keeps its device (trust-ui.ts reads its id on the settings page: keep in step). */
const DEVICE_RECORD = "chat:device";
const STATE_RECORD = "chat:state";
const RECOVERY_RECORD = "chat:recovery";
/** Key holders the server picked for a channel are reused this long. */
const HOLDERS_CACHE_MS = 30_000;
/** Waiting items are gathered this long before one round of requests goes out. */
const KEY_FLUSH_DELAY_MS = 300;
/** Forwarded keys kept per item until one opens it (a wrong one must not block a right one). */
const MAX_CANDIDATES = 4;

type Ad = { ad: string; entry: string };
type Restored = { deviceId: string; adByPeer: Record<string, string[]> };

interface PersistedState {
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

/**
 * What a reader sees for a message (issue 11 §4): its text, or exactly one of
 *  - waiting: the key was asked for (whom, how long ago); a Retry asks again at once;
 *  - unavailable: sent before the reader joined a channel whose history is not shared;
 *  - failed: it cannot be decrypted, with the plain reason (never "replayed" for a message this
 *    device never read: a key it lacks is asked for, not reported as a replay).
 */
export type DecryptOutcome =
  | { status: "ok"; text: string; files?: unknown[]; call?: CallRecord; preview?: unknown }
  | { status: "waiting"; reason: string }
  | { status: "unavailable"; reason: string }
  | { status: "failed"; reason: string };

export const BEFORE_JOINED = "Sent before you joined — this channel does not share history.";

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

/**
 * The plaintext inside every ciphertext: versioned JSON `{"v":1,"text":…}`; a message with files
 * adds `"files":[…]` (each file's id, key, header, name, type, size: files-ui.ts), which a
 * reader without file support ignores (it shows the caption). Checked by the files chunk.
 */
export type ChatContent = { text: string; files?: unknown[]; call?: CallRecord; preview?: unknown };
/** `preview`: a link preview the sender's composer made (link-preview.ts; docs/integrations.md), checked by the reader's renderer. */
export function encodeChatPlaintext(text: string, files?: unknown[], call?: CallRecord, preview?: unknown): Uint8Array {
  return encodeUtf8(JSON.stringify({ v: 1, text, ...(files?.length ? { files } : {}), ...(call ? { call } : {}), ...(preview ? { preview } : {}) }));
}
export function decodeChatContent(bytes: Uint8Array): ChatContent {
  const parsed = JSON.parse(decodeUtf8(bytes)) as { v?: number; text?: unknown; files?: unknown; call?: unknown; preview?: unknown };
  if (parsed.v !== 1 || typeof parsed.text !== "string") throw new Error("unsupported message format");
  const call = parseCallRecord(parsed.call);
  return { text: parsed.text, ...(Array.isArray(parsed.files) && parsed.files.length ? { files: parsed.files } : {}), ...(call ? { call } : {}), ...(parsed.preview && typeof parsed.preview === "object" ? { preview: parsed.preview } : {}) };
}
export function decodeChatPlaintext(bytes: Uint8Array): string {
  return decodeChatContent(bytes).text;
}

/** A decryption failure in plain language (docs/crypto.md "What a reader sees"); null: a key is missing. */
function failureOf(code: string | undefined): string | null {
  if (code === "DECRYPT_FAILED" || code === "INVALID_SIGNATURE") return "Can't be decrypted: it was altered or damaged after it was sent, so it is not shown.";
  if (code === "UNSUPPORTED_VERSION") return "Can't be decrypted: it was written by a newer version of Hearth. Reload the page to update.";
  return `Can't be decrypted: its encrypted form is not one this app can read (${code ?? "unknown error"}).`;
}

/** To-device refusals that name the entries they are about (the others in the call can go again). */
const LEAVE_OUT = new Set(["QUEUE_FULL", "DEVICE_NOT_FOUND", "USER_NOT_FOUND"]);

const toWire = (obj: unknown): string => encodeBase64url(encodeUtf8(JSON.stringify(obj)));
const fromWire = (text: string): Uint8Array => decodeBase64url(text);

export class ChatEngine {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sessions = new Map<string, PairwiseSession[]>();
  private senderKeys = new SenderKeyStore();
  private archive = new MessageKeyArchive();
  /** Readers of the channels on screen (viewers.ts), for "sent before you joined" and whom to ask. */
  private readonly contexts = new Map<string, ViewerList>();
  private readonly holders = new Map<string, { at: number; refs: DeviceRef[]; online: Set<string> }>();
  /** Requests to withdraw from devices that were asked for an item that opened meanwhile. */
  private readonly cancels = new Map<string, { ref: DeviceRef; c: string; i: Set<string> }>();
  private readonly limiter = new AnswerLimiter();
  private keyFlushTimer: ReturnType<typeof setTimeout> | undefined;
  private forceChannel: string | null = null;
  readonly stats: EngineStats = { distributionsSent: 0, distributionsReceived: 0, keyRequestsSent: 0, keyRequestItems: 0, keyForwardsSent: 0, keysForwarded: 0, refusalsSent: 0, keysOffered: 0, keysAccepted: 0, refusalsReceived: 0, toDeviceBytesSent: 0 };
  /** A new device of a user who already had others, not restored yet: history needs the backup. */
  get needsRestore(): boolean {
    return this.state.needsRestore === true;
  }
  private backupTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    readonly userId: string,
    private readonly store: KeyStore,
    private device: DeviceIdentity,
    private state: PersistedState,
    /** How this engine reaches the server (the page's API in a browser). */
    readonly api: Api,
  ) {
    for (const [k, list] of Object.entries(state.sessions)) this.sessions.set(k, list.map(restorePairwiseSession));
    this.senderKeys = restoreSenderKeyStore(state.senderKeys);
    this.archive = MessageKeyArchive.restore(state.archive);
  }

  get deviceId(): string {
    return this.device.deviceId;
  }

  /**
   * Trust records (trust-store.ts) and what safety numbers need (safety-numbers-core.ts) for the Verify panel,
   * the key-change interstitial and the server pin (trust-ui.ts, in the lazy chunk: it gets them
   * as values so no module is shared between chat.js and the chunk). `key`: signing ‖ DH (64 B).
   */
  readonly trust = {
    /** This device's identity key (signing ‖ DH) and the SHA-512 the safety numbers use. */
    ownKey: () => getDeviceIdentityKeyBytes(this.device),
    sha512: computeSha512,
    markVerified: (userId: string, devices: { deviceId: string; identityKey: Uint8Array }[]) => markPersonVerified(this.store, userId, devices),
    check: (userId: string, devices: { deviceId: string; identityKey?: Uint8Array }[]) => checkPersonDevices(this.store, userId, devices),
    acknowledge: (userId: string) => acknowledgePersonChange(this.store, userId),
    /** The server's answer to a fresh challenge (trust-ui.ts asks), checked against the pin. */
    checkServer: (publicKey: Uint8Array, challenge: Uint8Array, signature: Uint8Array) => checkServerIdentityProof(this.store, publicKey, challenge, signature),
    acceptServer: (publicKey: Uint8Array) => acceptServerIdentity(this.store, publicKey),
  };


  /** `api`: the page's own by default; tests and the soak drive several users' engines in one process. */
  static async open(userId: string, store?: KeyStore, api: Api = pageApi): Promise<ChatEngine> {
    const keyStore = store ?? (await IndexedDbKeyStore.open(`hearth-chat-${userId}`));
    // Two tabs opening at once must not create two devices: load-or-create under the lock.
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    const body = () => ChatEngine.loadOrCreate(userId, keyStore, api);
    return locks ? ((await locks.request(`hearth-chat-${userId}`, body)) as ChatEngine) : body();
  }

  private static async loadOrCreate(userId: string, keyStore: KeyStore, api: Api): Promise<ChatEngine> {
    const storedDevice = await keyStore.get(DEVICE_RECORD);
    const storedState = await keyStore.get(STATE_RECORD);
    let device: DeviceIdentity;
    let state: PersistedState;
    if (storedDevice && storedState) {
      device = restoreDeviceIdentity(JSON.parse(storedDevice));
      state = JSON.parse(storedState) as PersistedState;
      state.restored ??= [];
    } else {
      device = createDeviceIdentity({ userId, deviceId: crypto.randomUUID(), now: Date.now() });
      state = {
        v: 1,
        registered: false,
        sessions: {},
        senderKeys: serialiseSenderKeyStore(new SenderKeyStore()),
        archive: new MessageKeyArchive().serialise(),
        ads: {},
        distributed: {},
        toDeviceAfter: null,
        backupVersion: 0,
        restored: [],
      };
      await keyStore.put(DEVICE_RECORD, JSON.stringify(serialiseDeviceIdentity(device)));
      await keyStore.put(STATE_RECORD, JSON.stringify(state));
    }
    const engine = new ChatEngine(userId, keyStore, device, state, api);
    if (!state.registered) await engine.register();
    return engine;
  }

  /**
   * One operation at a time, in this tab and across the browser's tabs (Web Locks): each
   * operation starts from the stored state (another tab may have advanced a ratchet or received
   * a sender key) and saves before the lock is released.
   */
  private run<T>(fn: () => Promise<T>): Promise<T> {
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

  private lastSaved = "";

  private async reload(): Promise<void> {
    const stored = await this.store.get(STATE_RECORD);
    if (!stored || stored === this.lastSaved) return;
    const device = await this.store.get(DEVICE_RECORD);
    if (device) this.device = restoreDeviceIdentity(JSON.parse(device));
    this.state = JSON.parse(stored) as PersistedState;
    this.state.restored ??= [];
    this.sessions.clear();
    for (const [k, list] of Object.entries(this.state.sessions)) this.sessions.set(k, list.map(restorePairwiseSession));
    this.senderKeys = restoreSenderKeyStore(this.state.senderKeys);
    this.archive = MessageKeyArchive.restore(this.state.archive);
    this.lastSaved = stored;
  }

  private async save(): Promise<void> {
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

  private async register(): Promise<void> {
    const existing = await this.api.call<{ devices: { deviceId: string }[] }>("GET", `/api/keys/users/${this.userId}/devices`);
    this.state.needsRestore = existing.devices.some((d) => d.deviceId !== this.device.deviceId);
    try {
      await this.api.call("POST", "/api/keys/devices", encodeDevicePublicBundle(exportDevicePublicBundle(this.device)));
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "DEVICE_EXISTS")) throw error;
    }
    this.state.registered = true;
    await this.save();
  }

  /**
   * This device was revoked elsewhere (sends answer 400 UNKNOWN_DEVICE): set encryption up again
   * as a NEW device (fresh identity and id, registered through the key service). A revoked
   * identity is never registered again. Kept: the message-key archive and others' sender keys
   * (history stays readable); dropped: pairwise sessions, sender-key distribution records and the
   * to-device position, which belonged to the old device. Peers learn of the new device from
   * keys:changed and the device list, as for any new device.
   */
  resetDevice(): Promise<void> {
    return this.run(async () => {
      this.device = createDeviceIdentity({ userId: this.userId, deviceId: crypto.randomUUID(), now: Date.now() });
      this.sessions.clear();
      this.state.distributed = {};
      this.state.toDeviceAfter = null;
      this.state.registered = false;
      await this.save(); // private halves first, as for the first registration
      await this.register();
    });
  }

  /** One-time prekeys below the watermark → a new batch; a signed prekey older than a week → rotate. */
  maintainPrekeys(): Promise<void> {
    return this.run(async () => {
      const list = await this.api.call<{ devices: { deviceId: string; oneTimePrekeysRemaining?: number }[] }>("GET", `/api/keys/users/${this.userId}/devices`);
      const mine = list.devices.find((d) => d.deviceId === this.device.deviceId);
      if (!mine) return; // revoked elsewhere: the page says so via keys:changed
      const count = countOneTimePrekeysToGenerate(mine.oneTimePrekeysRemaining ?? 0);
      const rotate = shouldRotateSignedPrekey(this.device, Date.now());
      if (count === 0 && !rotate) return;
      const oneTimePrekeys = count > 0 ? generateOneTimePrekeys(this.device, count) : [];
      const signed = rotate ? rotateSignedPrekey(this.device, Date.now()) : undefined;
      await this.save(); // private halves first: an uploaded prekey we cannot open would be worse
      await this.api.call("POST", "/api/keys/prekeys", encodePrekeyUpload({
        deviceId: this.device.deviceId,
        oneTimePrekeys,
        signedPrekey: signed ? { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature } : undefined,
      }));
    });
  }

  /** The readers of a channel as the page last fetched them (viewers.ts): who may be asked, and since when this user reads. */
  setChannelContext(channelId: string, list: ViewerList): void {
    this.contexts.set(channelId, list);
  }

  /** Counts an event and publishes the stats at once (tests read them while the engine works). */
  private count(name: keyof EngineStats, n = 1): void {
    this.stats[name] += n;
    this.publishStats();
  }

  private publishStats(): void {
    if (typeof document !== "undefined") document.documentElement.dataset.e2eeStats = JSON.stringify(this.stats);
  }

  /**
   * Starts X3DH sessions with the devices we have none with (bundles are fetched per user).
   * `tolerant`: a user whose bundles cannot be fetched (rate limit, no longer a contact) is left
   * out instead of failing the whole call (key requests are best effort; messages are not).
   */
  private async ensureSessions(refs: readonly DeviceRef[], tolerant = false): Promise<DeviceRef[]> {
    const missing = refs.filter((r) => !this.sessions.get(deviceKey(r))?.length);
    for (const userId of new Set(missing.map((r) => r.userId))) {
      let bundles: ReturnType<typeof parsePrekeyBundleList>;
      try {
        bundles = parsePrekeyBundleList(await this.api.text(`/api/keys/users/${userId}/bundles`));
      } catch (error) {
        if (tolerant) continue;
        throw error;
      }
      for (const bundle of bundles) {
        const key = deviceKey(bundle);
        if (this.sessions.get(key)?.length || bundle.deviceId === this.device.deviceId) continue;
        const check = await checkContactIdentity(this.store, bundle.userId, bundle.deviceId, encodeIdentityKeyBytes(bundle));
        if (check.check === "changed" && typeof document !== "undefined") document.dispatchEvent(new CustomEvent("chat:identity-changed", { detail: { userId: bundle.userId, deviceId: bundle.deviceId } }));
        this.sessions.set(key, [startSessionAsInitiator(this.device, bundle)]);
      }
    }
    return refs.filter((r) => this.sessions.get(deviceKey(r))?.length);
  }

  /**
   * One pairwise message per device (each its own plaintext) through the to-device queue, 200 per
   * call. Returns the devices whose message was queued. A QUEUE_FULL refusal names the entries
   * that did not fit (our share of that device's queue is full): those are left out and the rest
   * is sent again, so one full device never fails a whole distribution. Devices without a
   * session are skipped. Ratchets advance here: the state is saved before the network call.
   */
  private async postToDevices(items: readonly { ref: DeviceRef; bytes: Uint8Array }[]): Promise<Set<string>> {
    const queued = new Set<string>();
    const messages: { user_id: string; device_id: string; ciphertext: string }[] = [];
    for (const { ref, bytes } of items) {
      const session = this.sessions.get(deviceKey(ref))?.[0];
      if (!session) continue;
      const { envelope } = encryptForDevices(this.device.deviceId, [{ deviceId: ref.deviceId, session }], bytes);
      messages.push({ user_id: ref.userId, device_id: ref.deviceId, ciphertext: toWire(encodeRatchetMessage(envelope.recipients[0]!.message)) });
    }
    if (messages.length === 0) return queued;
    await this.save();
    for (let batch of chunk(messages, 200)) {
      for (let attempt = 0; batch.length > 0; attempt++) {
        try {
          await this.api.call("POST", "/api/e2ee/to-device", { sender_device_id: this.device.deviceId, messages: batch });
          for (const m of batch) queued.add(`${m.user_id}/${m.device_id}`);
          this.count("toDeviceBytesSent", batch.reduce((n, m) => n + m.ciphertext.length, 0));
          break;
        } catch (error) {
          // Entries the server names (a full share; a device revoked or a user who stopped being a
          // contact since we listed them) are left out and the rest sent again: one gone device
          // must not lose every other device's key (the soak found key requests lost this way).
          const refused = error instanceof ApiError && LEAVE_OUT.has(error.code) ? Object.keys(error.fields ?? {}).map((f) => Number(f.split(".")[1])) : [];
          if (refused.length === 0 || attempt >= LEAVE_OUT.size) throw error;
          batch = batch.filter((_, i) => !refused.includes(i));
        }
      }
    }
    return queued;
  }

  // The call client (src/client/voice, its own bundle): the DTLS fingerprint attestation
  // (docs/crypto.md, "Calls") travels as one pairwise ratchet message in `rtc:signal`, outside the
  // to-device queue, through the same sessions (and queue) as everything else here.
  /** Seals `bytes` for one device: the wire form of a pairwise ratchet message. */
  sealForDevice(ref: DeviceRef, bytes: Uint8Array): Promise<string> {
    return this.run(async () => {
      const session = (await this.ensureSessions([ref])).length ? this.sessions.get(deviceKey(ref))![0]! : null;
      if (!session) throw new ApiError(0, "NO_SESSION", "No encryption session with that device.");
      const { envelope } = encryptForDevices(this.device.deviceId, [{ deviceId: ref.deviceId, session }], bytes);
      await this.save();
      return toWire(encodeRatchetMessage(envelope.recipients[0]!.message));
    });
  }

  /** Opens what `ref` sealed for this device; with that device's Ed25519 key (from its checked bundle). */
  openFromDevice(ref: DeviceRef, wire: string): Promise<{ plaintext: Uint8Array; signingKey: Uint8Array }> {
    return this.run(async () => {
      const key = deviceKey(ref);
      const sessions = this.sessions.get(key) ?? [];
      const result = receivePairwiseMessage(this.device, sessions, ref, parseRatchetMessage(fromWire(wire)));
      this.sessions.set(key, promoteSession(sessions, result.session));
      await this.save();
      return { plaintext: result.plaintext, signingKey: result.session.remote.signingKey };
    });
  }

  /** Signs a call attestation's signed bytes, and nothing else (they start with its context). */
  signCallBytes(bytes: Uint8Array): Uint8Array {
    if (decodeUtf8(bytes.subarray(0, SIGNED_CONTEXT.length)) !== SIGNED_CONTEXT) throw new Error("not a call attestation");
    return signBytes(this.device.signing.privateKey, bytes);
  }

  verifyCallBytes(signingKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
    return verifySignature(signingKey, bytes, signature);
  }

  /**
   * Encrypts `text` for the channel's readers: `recipients` are every device of every reader
   * (viewers.ts recipientsOf, this device excluded), fetched for the viewer version the send
   * names. Returns the ciphertext and a callback that archives the key once the server id is known.
   * `maxChars`: the longest text receivers show (shared/text-limits.ts); longer text is refused
   * here, so no path (composer, edit, thread, schedule) sends what readers would not show.
   * `archiveAs` (a new message's `client:<client id>`): the key is archived under that name in the
   * same save that advances the ratchet, before the ciphertext leaves — a tab closed between the
   * server's answer and `remember` must not lose the only key of the message it sent (other
   * devices' key requests name the client id too, see findKey).
   */
  encrypt(scheme: Scheme, channelId: string, recipients: readonly DeviceRef[], text: string, maxChars = MAX_MESSAGE_CHARS, archiveAs?: string, files?: unknown[], call?: CallRecord, preview?: unknown): Promise<{ ciphertext: string; remember: (messageId: string) => Promise<void> }> {
    if (text.length > maxChars) return Promise.reject(new ApiError(0, "MESSAGE_TOO_LONG", describeLimit("A message", maxChars)));
    return this.run(async () => {
      if (scheme === "pw") {
        const ready = await this.ensureSessions(recipients);
        if (ready.length === 0) throw new ApiError(0, "NO_DEVICES", "Nobody in this conversation has a device that can read messages yet.");
        const list = ready.map((r) => ({ deviceId: r.deviceId, session: this.sessions.get(deviceKey(r))![0]! }));
        const { envelope, messageKeys } = encryptForDevices(this.device.deviceId, list, encodeChatPlaintext(text, files, call, preview));
        const first = list[0]!;
        const key = messageKeys.get(first.deviceId)!;
        const ad = encodeBase64url(first.session.ratchet.associatedData);
        if (archiveAs) {
          this.archive.rememberMessageKey(archiveAs, key);
          this.state.ads[archiveAs] = { ad, entry: first.deviceId };
        }
        await this.save();
        return {
          ciphertext: toWire(encodePairwiseEnvelope(envelope)),
          remember: (id) => this.run(async () => {
            this.archive.rememberMessageKey(id, key);
            this.state.ads[id] = { ad, entry: first.deviceId };
            this.forgetProvisional(archiveAs, id);
            await this.save();
            this.scheduleBackup();
          }),
        };
      }
      const key = await this.distributeOwnKey(channelId, recipients, true);
      const { message, messageKey } = encryptGroupMessage(key, this.device.deviceId, encodeChatPlaintext(text, files, call, preview));
      if (archiveAs) this.archive.rememberMessageKey(archiveAs, messageKey);
      await this.save();
      return {
        ciphertext: toWire(encodeSenderKeyMessage(message)),
        remember: (id) => this.run(async () => {
          this.archive.rememberMessageKey(id, messageKey);
          this.forgetProvisional(archiveAs, id);
          await this.save();
          this.scheduleBackup();
        }),
      };
    });
  }

  /** Once a sent message's key is archived under its id, its provisional client-id copy goes. */
  private forgetProvisional(archiveAs: string | undefined, id: string): void {
    if (!archiveAs || archiveAs === id) return;
    this.archive.forgetMessageKey(archiveAs);
    delete this.state.ads[archiveAs];
  }

  /**
   * Our sender key for the channel, given to every reader device that lacks it (planSenderKey):
   * created when missing, rotated when a device that held it is no longer a reader's (or after
   * 7 days / 1000 messages). `sending`: for a send now; otherwise (a live viewers:changed) only an
   * existing key is shared with new devices, and a rotation waits for the next send.
   */
  private distributeOwnKey(channelId: string, recipients: readonly DeviceRef[], sending: true): Promise<OwnSenderKey>;
  private distributeOwnKey(channelId: string, recipients: readonly DeviceRef[], sending: false): Promise<OwnSenderKey | null>;
  private async distributeOwnKey(channelId: string, recipients: readonly DeviceRef[], sending: boolean): Promise<OwnSenderKey | null> {
    const own = this.senderKeys.own.get(channelId);
    const record = this.state.distributed[channelId];
    const holders = new Set(own && record?.keyId === own.keyId ? record.devices : []);
    const plan = planSenderKey(own, holders, recipients, Date.now());
    if (!sending && plan.action !== "keep") return null;
    const key = plan.action === "keep" ? own! : plan.action === "rotate" ? this.senderKeys.rotateOwnKey(channelId, Date.now()) : this.senderKeys.getOrCreateOwnKey(channelId, Date.now()).key;
    if (plan.action !== "keep") holders.clear();
    if (plan.distributeTo.length > 0) {
      const bytes = encodeSenderKeyDistributionBytes(key);
      // Sessions only with the devices that need the key now (a large channel's other devices
      // already hold it). Live sharing skips a device whose keys cannot be fetched; a send fails.
      const ready = await this.ensureSessions(plan.distributeTo, !sending);
      const queued = await this.postToDevices(ready.map((ref) => ({ ref, bytes })));
      for (const k of queued) holders.add(k);
      this.count("distributionsSent", queued.size);
    }
    this.state.distributed[channelId] = { keyId: key.keyId, devices: [...holders] };
    return key;
  }

  /** Whether this device has sent in the channel (holds an own sender key there), as last loaded. */
  hasOwnSenderKey(channelId: string): boolean {
    return this.senderKeys.own.has(channelId);
  }

  /**
   * The readers of a channel changed (viewers:changed): devices that are new get our current
   * sender key now, before our next send, so they read it live. Nothing happens without a key of
   * ours (we never sent here) or when the change needs a rotation (the next send rotates).
   */
  shareSenderKey(channelId: string, recipients: readonly DeviceRef[]): Promise<void> {
    return this.run(async () => {
      if (!this.senderKeys.own.has(channelId)) return;
      await this.distributeOwnKey(channelId, recipients, false);
      await this.save();
    });
  }

  /**
   * Decrypts a stored or live message (or a poll's question: id `poll:<id>`). A key this device
   * lacks is asked for (key requests: the sender's device, this user's other devices, a few other
   * readers' devices) unless the message was sent before this user joined a channel whose
   * history is not shared; see DecryptOutcome for what the reader is told. Every decrypted text
   * the chat shows comes through here (timeline, edits, thread, pins, bookmarks, scheduled,
   * polls), so this is where the length limit holds for received text: a modified client can
   * encrypt anything, and text longer than `maxChars` is "failed" with a notice.
   */
  decrypt(message: ChatMessage, maxChars = MAX_MESSAGE_CHARS): Promise<DecryptOutcome> {
    return this.run(async () => {
      if (!message.ciphertext) return { status: "failed", reason: "This message was deleted." };
      const pending = this.state.keyRequests?.[message.id];
      let failure: string | null = null;
      try {
        const content = this.decryptNow(message);
        if (content !== null) {
          if (pending) this.settleRequest(message.id, null);
          await this.save();
          this.scheduleBackup();
          const shown = checkReceivedText("Message", content.text, maxChars);
          return shown.status === "ok" ? { ...shown, files: content.files, call: content.call, preview: content.preview } : shown;
        }
      } catch (error) {
        failure = failureOf((error as { code?: string }).code);
      }
      if (failure) return { status: "failed", reason: failure };
      const context = this.contexts.get(message.channel_id);
      if (context?.history === "joined" && context.since !== null && Date.parse(message.created_at) < context.since) return { status: "unavailable", reason: BEFORE_JOINED };
      if (pending?.refused === "BEFORE_JOINED") return { status: "unavailable", reason: BEFORE_JOINED };
      if (pending?.refused === "NOT_A_VIEWER") return { status: "failed", reason: "Can't be decrypted: the members who hold its key say you could not read this conversation when it was sent." };
      if (!pending) {
        // Saved by the request round (flushKeyRequests); lost on a reload before it, then noted again.
        (this.state.keyRequests ??= {})[message.id] = { c: message.channel_id, s: message.sender_id, d: message.sender_device_id, at: 0, last: 0, n: 0, next: 0, asked: {} };
        prunePending(this.state.keyRequests);
      }
      this.scheduleKeyFlush();
      const from = message.sender_id === this.userId ? "your other devices" : `${authorName(message)}'s device`;
      // Nobody who might hold it is online (the server's pick): say when it will come.
      const later = this.holders.get(message.channel_id)?.online.size === 0 ? " Nobody who has it is online; it will appear when one of them comes online." : "";
      return { status: "waiting", reason: `Waiting for the key from ${from} (${askedAgo(pending, Date.now())}).${later}` };
    });
  }

  /** The reader pressed Retry on a waiting message: ask every holder again now. */
  retryKeyRequest(channelId: string): void {
    this.forceChannel = channelId;
    this.scheduleKeyFlush(0);
  }

  /** A reader of the channel came online (presence): they may hold keys we wait for; ask now. */
  nudgeKeyRequests(channelId: string): void {
    this.holders.delete(channelId);
    const pending = this.state.keyRequests ?? {};
    for (const p of Object.values(pending)) if (p.c === channelId) p.next = 0;
    this.scheduleKeyFlush();
  }

  /**
   * The text, or null when this device holds no key for it. Keys are tried in order: the
   * message-key archive (history), keys other devices forwarded (each proven by opening the
   * message before it is kept), then the live session or sender key.
   */
  private decryptNow(message: ChatMessage): ChatContent | null {
    // A scheduled message's key was archived under its client id when it was encrypted.
    const byClient = message.client_id ? `client:${message.client_id}` : "";
    const archived = this.archive.findMessageKey(message.id) ?? (byClient ? this.archive.findMessageKey(byClient) : undefined);
    const bytes = fromWire(message.ciphertext!);
    const candidates = this.state.forwarded?.[message.id] ?? [];
    if (message.scheme === "sk") {
      const group = parseSenderKeyMessage(bytes);
      const open = (key: Uint8Array) => decodeChatContent(decryptGroupMessageWithKey(key, message.channel_id, message.sender_device_id, group));
      if (archived) {
        try {
          return open(archived);
        } catch {
          // An edit replaced the ciphertext: the archived key is the old one's; read it live.
        }
      }
      for (const [fk, from] of candidates) {
        try {
          const text = open(decodeBase64url(fk[1]));
          this.acceptForwarded(message.id, fk, from);
          return text;
        } catch {
          // a key that does not open it: try the next one
        }
      }
      if (message.sender_device_id === this.device.deviceId) return null; // own message whose key was never archived
      const state = this.senderKeys.received.get(`${message.channel_id}/${message.sender_device_id}`)?.find((k) => k.keyId === group.keyId);
      if (!state) return null;
      try {
        const { plaintext, messageKey } = decryptGroupMessage(state, group);
        this.archive.rememberMessageKey(message.id, messageKey);
        return decodeChatContent(plaintext);
      } catch (error) {
        // An iteration before the one our copy of the key starts at (we joined later), or one
        // read before whose key was lost: a key to ask for, not a replay to report.
        if ((error as { code?: string }).code === "REPLAYED_MESSAGE" || (error as { code?: string }).code === "TOO_MANY_SKIPPED") return null;
        throw error;
      }
    }
    const envelope = parsePairwiseEnvelope(bytes);
    const openWith = (key: Uint8Array, ad: Ad): ChatContent | null => {
      const entry = envelope.recipients.find((r) => r.deviceId === ad.entry);
      return entry ? decodeChatContent(decryptRatchetMessageWithKey(key, decodeBase64url(ad.ad), entry.message)) : null;
    };
    if (archived) {
      const ad = this.state.ads[message.id] ?? (byClient ? this.state.ads[byClient] : undefined);
      if (ad) {
        try {
          const text = openWith(archived, ad);
          if (text !== null) return text;
        } catch {
          // edited since: fall through to the live path
        }
      }
      const text = this.decryptRestored(message, envelope, archived);
      if (text !== null) return text;
    }
    for (const [fk, from] of candidates) {
      if (!fk[2] || !fk[3]) continue;
      try {
        const text = openWith(decodeBase64url(fk[1]), { ad: fk[2], entry: fk[3] });
        if (text === null) continue;
        this.acceptForwarded(message.id, fk, from);
        return text;
      } catch {
        // does not open it
      }
    }
    const entry = envelope.recipients.find((r) => r.deviceId === this.device.deviceId);
    if (!entry) return null; // sent before this device existed: another device may forward the key
    const key = `${message.sender_id}/${envelope.senderDeviceId}`;
    const sessions = this.sessions.get(key) ?? [];
    try {
      const result = receivePairwiseMessage(this.device, sessions, { userId: message.sender_id, deviceId: envelope.senderDeviceId }, entry.message);
      this.sessions.set(key, promoteSession(sessions, result.session));
      this.archive.rememberMessageKey(message.id, result.messageKey);
      this.state.ads[message.id] = { ad: encodeBase64url(result.session.ratchet.associatedData), entry: entry.deviceId };
      return decodeChatContent(result.plaintext);
    } catch (error) {
      // Read before (its key was used) but not archived here, or no session: ask for the key.
      const code = (error as { code?: string }).code;
      if (code === "REPLAYED_MESSAGE" || code === "NO_SESSION" || code === "TOO_MANY_SKIPPED") return null;
      throw error;
    }
  }

  /** A forwarded key opened its item: keep it (archive → key backup), drop the rest. */
  private acceptForwarded(id: string, fk: ForwardedKey, from: string): void {
    this.archive.rememberMessageKey(id, decodeBase64url(fk[1]));
    if (fk[2] && fk[3]) this.state.ads[id] = { ad: fk[2], entry: fk[3] };
    delete this.state.forwarded![id];
    this.count("keysAccepted");
    this.settleRequest(id, from);
  }

  /** An item opened: stop waiting; devices asked for it that did not answer are told to forget it. */
  private settleRequest(id: string, answeredBy: string | null): void {
    const p = this.state.keyRequests?.[id];
    if (!p) return;
    delete this.state.keyRequests![id];
    for (const key of Object.keys(p.asked)) {
      if (key === answeredBy) continue;
      const [userId, deviceId] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
      const c = this.cancels.get(key) ?? { ref: { userId, deviceId }, c: p.c, i: new Set<string>() };
      if (c.c === p.c) c.i.add(id);
      this.cancels.set(key, c);
    }
    if (this.cancels.size) this.scheduleKeyFlush();
  }

  /** History read by a device whose keys came from the backup (see restoreFromBackup). */
  private decryptRestored(message: ChatMessage, envelope: ReturnType<typeof parsePairwiseEnvelope>, key: Uint8Array): ChatContent | null {
    for (const r of this.state.restored) {
      const sent = envelope.senderDeviceId === r.deviceId;
      const entry = sent ? envelope.recipients[0] : envelope.recipients.find((x) => x.deviceId === r.deviceId);
      if (!entry) continue;
      for (const ad of r.adByPeer[sent ? entry.deviceId : envelope.senderDeviceId] ?? []) {
        try {
          return decodeChatContent(decryptRatchetMessageWithKey(key, decodeBase64url(ad), entry.message));
        } catch {
          // another session's AD
        }
      }
    }
    return null;
  }

  /**
   * Fetches, decrypts and acknowledges queued to-device messages: Sender Key distributions, and
   * the key-request messages (key-requests.ts) — requests are answered after the whole queue is
   * read, so a cancellation queued behind its request withdraws it before any work is done.
   */
  processToDevice(): Promise<number> {
    return this.run(async () => {
      let accepted = 0;
      const requests = new Map<string, { ref: DeviceRef; c: string; i: Set<string> }>();
      for (;;) {
        const after = this.state.toDeviceAfter ? `&after=${encodeURIComponent(this.state.toDeviceAfter)}` : "";
        const { messages } = await this.api.call<{ messages: { id: string; sender_id: string; sender_device_id: string; ciphertext: string }[] }>(
          "GET",
          `/api/e2ee/to-device?device_id=${encodeURIComponent(this.device.deviceId)}${after}`,
        );
        if (messages.length === 0) break;
        for (const m of messages) {
          try {
            const from = { userId: m.sender_id, deviceId: m.sender_device_id };
            const key = deviceKey(from);
            const sessions = this.sessions.get(key) ?? [];
            const ratchetMessage = parseRatchetMessage(fromWire(m.ciphertext));
            const result = receivePairwiseMessage(this.device, sessions, from, ratchetMessage);
            this.sessions.set(key, promoteSession(sessions, result.session));
            const keyMessage = parseKeyMessage(result.plaintext);
            if (keyMessage) this.receiveKeyMessage(keyMessage, from, requests);
            else {
              this.senderKeys.acceptDistribution(result.session, result.plaintext);
              this.count("distributionsReceived");
            }
            accepted++;
          } catch {
            // A forged, replayed or undecryptable message: drop it (acked below) rather than loop on it.
          }
          this.state.toDeviceAfter = m.id;
        }
        await this.save();
        await this.api.call("POST", "/api/e2ee/to-device/ack", { device_id: this.device.deviceId, up_to_id: this.state.toDeviceAfter });
        if (messages.length < 50) break;
      }
      if (requests.size) await this.answerKeyRequests([...requests.values()]);
      return accepted;
    });
  }

  /**
   * A key message from `from`: a request is collected (answered after the queue), a cancel
   * withdraws one collected from the same device, forwarded keys are kept as candidates — only
   * for items this device asked that device for — and refusals are noted.
   */
  private receiveKeyMessage(m: KeyMessage, from: DeviceRef, requests: Map<string, { ref: DeviceRef; c: string; i: Set<string> }>): void {
    const fromKey = deviceKey(from);
    const slot = `${fromKey} ${m.c}`;
    if (m.t === "kr") {
      const r = requests.get(slot) ?? { ref: from, c: m.c, i: new Set<string>() };
      for (const id of m.i) r.i.add(id);
      requests.set(slot, r);
      return;
    }
    if (m.t === "kc") {
      for (const id of m.i) requests.get(slot)?.i.delete(id);
      return;
    }
    const pending = this.state.keyRequests ?? {};
    const askedThem = (id: string) => pending[id]?.c === m.c && pending[id]!.asked[fromKey] !== undefined;
    for (const fk of m.k) {
      if (!askedThem(fk[0])) continue;
      const list = ((this.state.forwarded ??= {})[fk[0]] ??= []);
      if (list.length < MAX_CANDIDATES && !list.some(([k]) => k[1] === fk[1])) {
        list.push([fk, fromKey]);
        this.count("keysOffered");
      }
    }
    for (const [id, why] of m.n) {
      if (!askedThem(id)) continue;
      this.count("refusalsReceived");
      if (why === "BEFORE_JOINED" || why === "NOT_A_VIEWER") pending[id]!.refused = why;
    }
  }

  /**
   * Answers key requests (docs/crypto.md "Key requests"): for each requesting device and channel,
   * the server says which items its user may read (key-entitlements: a reader now, and for
   * history that is not shared, sent after they joined); only those keys are forwarded — from the
   * archive, or derived from this device's copy of the sender's key — the others are refused with
   * the reason. At most ANSWERS_PER_MINUTE answers per requesting device; unknown devices and
   * failures are skipped (the requester asks again later).
   */
  private async answerKeyRequests(requests: { ref: DeviceRef; c: string; i: Set<string> }[]): Promise<void> {
    const out: { ref: DeviceRef; bytes: Uint8Array }[] = [];
    for (const r of requests) {
      if (r.i.size === 0 || !this.limiter.allow(deviceKey(r.ref), Date.now())) continue;
      const keys: ForwardedKey[] = [];
      const refused: [string, Refusal][] = [];
      for (const ids of chunk([...r.i], MAX_ITEMS_PER_MESSAGE)) {
        let answer: { entitled: { id: string; seq: number | null; client_id: string | null }[]; refused: { id: string; reason: Refusal }[] };
        try {
          answer = await this.api.call("GET", `/api/channels/${r.c}/key-entitlements?user_id=${encodeURIComponent(r.ref.userId)}&ids=${ids.join(",")}`);
        } catch {
          for (const id of ids) refused.push([id, "UNAVAILABLE"]); // we cannot check: never forward unchecked
          continue;
        }
        for (const x of answer.refused) refused.push([x.id, x.reason]);
        const derivable = answer.entitled.filter((e) => e.seq !== null && !this.findKey(e.id, e.client_id));
        if (derivable.length) await this.deriveKeys(r.c, derivable as { id: string; seq: number }[]);
        for (const e of answer.entitled) {
          const k = this.findKey(e.id, e.client_id);
          if (k) keys.push(k);
          else refused.push([e.id, "UNAVAILABLE"]);
        }
      }
      this.count("keysForwarded", keys.length);
      this.count("refusalsSent", refused.length);
      const keyParts = chunk(keys, MAX_KEYS_PER_MESSAGE);
      const refusedParts = chunk(refused, MAX_ITEMS_PER_MESSAGE);
      for (let i = 0; i < Math.max(keyParts.length, refusedParts.length); i++) {
        out.push({ ref: r.ref, bytes: encodeKeyMessage({ t: "kf", c: r.c, k: keyParts[i] ?? [], n: refusedParts[i] ?? [] }) });
      }
    }
    if (out.length === 0) return;
    const ready = new Set((await this.ensureSessions(out.map((o) => o.ref), true)).map(deviceKey));
    const queued = await this.postToDevices(out.filter((o) => ready.has(deviceKey(o.ref)))).catch(() => new Set<string>());
    this.count("keyForwardsSent", out.filter((o) => queued.has(deviceKey(o.ref))).length);
    await this.save();
  }

  /** The key this device holds for an item (a scheduled message's under its client id), as forwarded. */
  private findKey(id: string, clientId: string | null): ForwardedKey | null {
    const name = this.archive.findMessageKey(id) ? id : clientId && this.archive.findMessageKey(`client:${clientId}`) ? `client:${clientId}` : null;
    if (!name) return null;
    const key = encodeBase64url(this.archive.findMessageKey(name)!);
    const ad = this.state.ads[name];
    return ad ? [id, key, ad.ad, ad.entry] : [id, key];
  }

  /**
   * Keys this device never archived but can still work out: it holds the sender's key from
   * before these messages (it was a reader then) and never opened them. Reads the history pages
   * that hold them (at most 20 pages) and decrypts those, which archives their keys.
   */
  private async deriveKeys(channelId: string, items: { id: string; seq: number }[]): Promise<void> {
    const wanted = new Set(items.map((i) => i.id));
    const seqs = items.map((i) => i.seq).sort((a, b) => a - b);
    let after = seqs[0]! - 1;
    const last = seqs[seqs.length - 1]!;
    for (let page = 0; page < 20 && after < last && wanted.size > 0; page++) {
      const { messages, has_more } = await this.api.call<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${channelId}/messages?after_seq=${after}&limit=100`).catch(() => ({ messages: [], has_more: false }));
      for (const raw of messages) {
        const m = normaliseMessage(raw);
        if (!m) continue;
        after = Math.max(after, m.seq);
        if (!wanted.delete(m.id) || !m.ciphertext) continue;
        try {
          this.decryptNow(m);
        } catch {
          // damaged: nothing to forward
        }
      }
      if (!has_more || messages.length === 0) break;
    }
  }

  private scheduleKeyFlush(delay = KEY_FLUSH_DELAY_MS): void {
    if (this.keyFlushTimer !== undefined) {
      if (delay > 0) return;
      clearTimeout(this.keyFlushTimer);
    }
    this.keyFlushTimer = setTimeout(() => {
      this.keyFlushTimer = undefined;
      void this.run(() => this.flushKeyRequests()).catch(() => {});
    }, delay);
  }

  /** Readers of a channel: the page's list, else fetched (bookmarks show messages of other channels). */
  private async readersOf(channelId: string): Promise<ViewerList | null> {
    const known = this.contexts.get(channelId);
    if (known) return known;
    const list = await new Viewers(channelId, this.api).current().catch(() => null);
    if (list) this.contexts.set(channelId, list);
    return list;
  }

  /** Other readers' devices the server picked to ask, and who of them is online (cached HOLDERS_CACHE_MS). */
  private async holdersOf(channelId: string): Promise<{ refs: DeviceRef[]; online: Set<string> }> {
    const cached = this.holders.get(channelId);
    if (cached && Date.now() - cached.at < HOLDERS_CACHE_MS) return cached;
    const answer = await this.api.call<{ devices: { user_id: string; device_id: string; online: boolean }[] }>("GET", `/api/channels/${channelId}/key-holders`).catch(() => ({ devices: [] }));
    const holders = { at: Date.now(), refs: answer.devices.map((d) => ({ userId: d.user_id, deviceId: d.device_id })), online: new Set(answer.devices.filter((d) => d.online).map((d) => d.user_id)) };
    this.holders.set(channelId, holders);
    return holders;
  }

  /** One round of key requests for the waiting items that are due, and pending cancellations. */
  private async flushKeyRequests(): Promise<void> {
    const force = this.forceChannel;
    this.forceChannel = null;
    const pending = this.state.keyRequests ?? {};
    const now = Date.now();
    const self = { userId: this.userId, deviceId: this.device.deviceId };
    const out: { ref: DeviceRef; bytes: Uint8Array }[] = [];
    const channels = new Set(Object.values(pending).filter((p) => !p.refused && (p.c === force || now >= p.next)).map((p) => p.c));
    for (const c of channels) {
      const readers = await this.readersOf(c);
      if (!readers) continue;
      const own = (readers.devicesByUser.get(this.userId) ?? []).filter((d) => d !== this.device.deviceId).map((deviceId) => ({ userId: this.userId, deviceId }));
      const holders = await this.holdersOf(c);
      const plan = planKeyRequests(pending, c, self, { readers: readers.devicesByUser, own, holders: holders.refs, online: holders.online }, now, c === force);
      for (const { ref, items } of plan.values()) {
        for (const i of chunk(items, MAX_ITEMS_PER_MESSAGE)) {
          out.push({ ref, bytes: encodeKeyMessage({ t: "kr", c, i }) });
          this.count("keyRequestsSent");
          this.count("keyRequestItems", i.length);
        }
      }
    }
    // Candidates for items no longer waited for (pruned, or opened some other way) go.
    for (const id of Object.keys(this.state.forwarded ?? {})) if (!pending[id]) delete this.state.forwarded![id];
    for (const x of this.cancels.values()) for (const i of chunk([...x.i], MAX_ITEMS_PER_MESSAGE)) out.push({ ref: x.ref, bytes: encodeKeyMessage({ t: "kc", c: x.c, i }) });
    this.cancels.clear();
    if (out.length) {
      const ready = new Set((await this.ensureSessions(out.map((o) => o.ref), true)).map(deviceKey));
      await this.postToDevices(out.filter((o) => ready.has(deviceKey(o.ref)))).catch(() => undefined);
    }
    await this.save();
  }

  /**
   * A 32-byte key of this user kept in the message-key archive under `name`, so it travels in the
   * key backup to the user's other devices (bookmark notes: docs/crypto.md). `create`: make it
   * on first use.
   */
  archivedKey(name: string, create: boolean): Promise<Uint8Array | undefined> {
    return this.run(async () => {
      let key = this.archive.findMessageKey(name);
      if (!key && create) {
        this.archive.rememberMessageKey(name, (key = crypto.getRandomValues(new Uint8Array(32))));
        await this.save();
        this.scheduleBackup();
      }
      return key;
    });
  }

  // ---- key backup ----------------------------------------------------------------------

  /** Creates (or replaces) the backup; returns the recovery key to show once. */
  createBackup(): Promise<string> {
    return this.run(async () => {
      const recoveryKey = generateRecoveryKey();
      await this.uploadBackup(recoveryKey);
      await this.store.put(RECOVERY_RECORD, encodeBase64url(recoveryKey));
      return formatRecoveryKey(recoveryKey);
    });
  }

  hasBackupKey(): Promise<boolean> {
    return this.store.get(RECOVERY_RECORD).then((v) => v !== undefined);
  }

  private async uploadBackup(recoveryKey: Uint8Array): Promise<void> {
    let version = this.state.backupVersion;
    try {
      const current = parseKeyBackupBlob(await this.api.text("/api/keys/backup"));
      version = Math.max(version, current.version);
    } catch {
      // none yet
    }
    const sessions = [...this.sessions.values()].flat();
    const blob = createKeyBackup(recoveryKey, { createdAt: Date.now(), device: this.device, sessions, senderKeys: this.senderKeys, archive: this.archive }, version + 1);
    await this.api.call("PUT", "/api/keys/backup", encodeKeyBackupBlob(blob));
    this.state.backupVersion = version + 1;
    await this.save();
  }

  /** After new message keys: refresh the backup (at most every 20 s) when this device holds the recovery key. */
  private scheduleBackup(): void {
    if (this.backupTimer) return;
    this.backupTimer = setTimeout(() => {
      this.backupTimer = undefined;
      void this.run(async () => {
        const stored = await this.store.get(RECOVERY_RECORD);
        if (stored) await this.uploadBackup(decodeBase64url(stored)).catch(() => {});
      });
    }, 20_000);
  }

  /** Restores history keys from the backup: archive, received sender keys, and the old device's session ADs. */
  restoreFromBackup(recoveryKeyText: string): Promise<{ messageKeys: number }> {
    return this.run(async () => {
      const recoveryKey = parseRecoveryKey(recoveryKeyText);
      const blob = parseKeyBackupBlob(await this.api.text("/api/keys/backup"));
      const snapshot = restoreKeyBackup(recoveryKey, blob);
      const merged = MessageKeyArchive.restore(snapshot.archive.serialise());
      const mine = this.archive.serialise() as { keys: [string, string][] };
      for (const [id, k] of mine.keys) merged.rememberMessageKey(id, decodeBase64url(k));
      this.archive = merged;
      for (const [name, list] of snapshot.senderKeys.received) {
        const existing = this.senderKeys.received.get(name) ?? [];
        const ids = new Set(existing.map((k) => k.keyId));
        this.senderKeys.received.set(name, [...list.filter((k) => !ids.has(k.keyId)), ...existing]);
      }
      // The old device's own channel keys, as received keys, so its channel history opens too.
      for (const own of snapshot.senderKeys.own.values()) {
        const name = `${own.channelId}/${snapshot.device.deviceId}`;
        if (!this.senderKeys.received.has(name)) {
          this.senderKeys.received.set(name, [{ channelId: own.channelId, senderDeviceId: snapshot.device.deviceId, keyId: own.keyId, iteration: own.iteration, chainKey: own.chainKey, signingKey: own.signing.publicKey, skipped: new Map() }]);
        }
      }
      const adByPeer: Record<string, string[]> = {};
      for (const s of snapshot.sessions) (adByPeer[s.remote.deviceId] ??= []).push(encodeBase64url(s.ratchet.associatedData));
      this.state.restored = [...this.state.restored.filter((r) => r.deviceId !== snapshot.device.deviceId), { deviceId: snapshot.device.deviceId, adByPeer }];
      this.state.backupVersion = Math.max(this.state.backupVersion, blob.version);
      this.state.needsRestore = false;
      await this.store.put(RECOVERY_RECORD, encodeBase64url(recoveryKey));
      await this.save();
      return { messageKeys: snapshot.archive.size };
    });
  }
}
