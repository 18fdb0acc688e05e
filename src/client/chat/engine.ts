// This browser's E2EE device as the chat uses it: identity in an IndexedDB store wrapped by a
// non-extractable key, registration with the key service, prekey upkeep, pairwise sessions,
// sender keys, the message-key archive for history, to-device key distribution and key backup.
// Every operation runs through one queue: ratchet and chain states must change one at a time.

import {
  checkContactIdentity,
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
  type PairwiseSession,
} from "../e2ee/index.ts";
import { checkReceivedText, describeLimit, MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";
import { ApiError, callApi, fetchText } from "./api.ts";
import { deviceKey, planSenderKey, selectRecipientDevices, type DeviceRef } from "./recipients.ts";
import type { ChatMessage, Scheme } from "./types.ts";

const DEVICE_RECORD = "chat:device";
const STATE_RECORD = "chat:state";
const RECOVERY_RECORD = "chat:recovery";
const DEVICE_CACHE_MS = 30_000;

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
}

export type DecryptOutcome = { status: "ok"; text: string } | { status: "waiting"; reason: string } | { status: "failed"; reason: string };

/** The plaintext inside every ciphertext: versioned JSON so attachments etc. can be added. */
export function encodeChatPlaintext(text: string): Uint8Array {
  return encodeUtf8(JSON.stringify({ v: 1, text }));
}
export function decodeChatPlaintext(bytes: Uint8Array): string {
  const parsed = JSON.parse(decodeUtf8(bytes)) as { v?: number; text?: unknown };
  if (parsed.v !== 1 || typeof parsed.text !== "string") throw new Error("unsupported message format");
  return parsed.text;
}

const toWire = (obj: unknown): string => encodeBase64url(encodeUtf8(JSON.stringify(obj)));
const fromWire = (text: string): Uint8Array => decodeBase64url(text);

export class ChatEngine {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sessions = new Map<string, PairwiseSession[]>();
  private senderKeys = new SenderKeyStore();
  private archive = new MessageKeyArchive();
  private readonly deviceCache = new Map<string, { at: number; devices: string[] }>();
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
  ) {
    for (const [k, list] of Object.entries(state.sessions)) this.sessions.set(k, list.map(restorePairwiseSession));
    this.senderKeys = restoreSenderKeyStore(state.senderKeys);
    this.archive = MessageKeyArchive.restore(state.archive);
  }

  get deviceId(): string {
    return this.device.deviceId;
  }

  static async open(userId: string, store?: KeyStore): Promise<ChatEngine> {
    const keyStore = store ?? (await IndexedDbKeyStore.open(`hearth-chat-${userId}`));
    // Two tabs opening at once must not create two devices: load-or-create under the lock.
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    const body = () => ChatEngine.loadOrCreate(userId, keyStore);
    return locks ? ((await locks.request(`hearth-chat-${userId}`, body)) as ChatEngine) : body();
  }

  private static async loadOrCreate(userId: string, keyStore: KeyStore): Promise<ChatEngine> {
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
    const engine = new ChatEngine(userId, keyStore, device, state);
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
    const existing = await callApi<{ devices: { deviceId: string }[] }>("GET", `/api/keys/users/${this.userId}/devices`);
    this.state.needsRestore = existing.devices.some((d) => d.deviceId !== this.device.deviceId);
    try {
      await callApi("POST", "/api/keys/devices", encodeDevicePublicBundle(exportDevicePublicBundle(this.device)));
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
      this.deviceCache.clear();
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
      const list = await callApi<{ devices: { deviceId: string; oneTimePrekeysRemaining?: number }[] }>("GET", `/api/keys/users/${this.userId}/devices`);
      const mine = list.devices.find((d) => d.deviceId === this.device.deviceId);
      if (!mine) return; // revoked elsewhere: the page says so via keys:changed
      const count = countOneTimePrekeysToGenerate(mine.oneTimePrekeysRemaining ?? 0);
      const rotate = shouldRotateSignedPrekey(this.device, Date.now());
      if (count === 0 && !rotate) return;
      const oneTimePrekeys = count > 0 ? generateOneTimePrekeys(this.device, count) : [];
      const signed = rotate ? rotateSignedPrekey(this.device, Date.now()) : undefined;
      await this.save(); // private halves first: an uploaded prekey we cannot open would be worse
      await callApi("POST", "/api/keys/prekeys", encodePrekeyUpload({
        deviceId: this.device.deviceId,
        oneTimePrekeys,
        signedPrekey: signed ? { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature } : undefined,
      }));
    });
  }

  forgetDevicesOf(userId: string): void {
    this.deviceCache.delete(userId);
  }

  private async devicesOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    await Promise.all(
      [...new Set([...userIds, this.userId])].map(async (userId) => {
        const cached = this.deviceCache.get(userId);
        if (cached && Date.now() - cached.at < DEVICE_CACHE_MS) return out.set(userId, cached.devices);
        try {
          const list = await callApi<{ devices: { deviceId: string }[] }>("GET", `/api/keys/users/${userId}/devices`);
          const devices = list.devices.map((d) => d.deviceId);
          this.deviceCache.set(userId, { at: Date.now(), devices });
          out.set(userId, devices);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) out.set(userId, []); // not a contact (any more)
          else throw error;
        }
      }),
    );
    return out;
  }

  /** Starts X3DH sessions with the devices we have none with (bundles are fetched per user). */
  private async ensureSessions(refs: readonly DeviceRef[]): Promise<DeviceRef[]> {
    const missing = refs.filter((r) => !this.sessions.get(deviceKey(r))?.length);
    for (const userId of new Set(missing.map((r) => r.userId))) {
      const bundles = parsePrekeyBundleList(await fetchText(`/api/keys/users/${userId}/bundles`));
      for (const bundle of bundles) {
        const key = deviceKey(bundle);
        if (this.sessions.get(key)?.length || bundle.deviceId === this.device.deviceId) continue;
        const check = await checkContactIdentity(this.store, bundle.userId, bundle.deviceId, encodeIdentityKeyBytes(bundle));
        if (check.check === "changed") document.dispatchEvent(new CustomEvent("chat:identity-changed", { detail: { userId: bundle.userId, deviceId: bundle.deviceId } }));
        this.sessions.set(key, [startSessionAsInitiator(this.device, bundle)]);
      }
    }
    return refs.filter((r) => this.sessions.get(deviceKey(r))?.length);
  }

  /**
   * Encrypts `text` for the channel. `participants`: DM participants (pw) or channel members (sk).
   * Returns the ciphertext to send and a callback that archives the key once the server id is known.
   * `maxChars`: the longest text receivers show (shared/text-limits.ts); longer text is refused
   * here, so no path (composer, edit, thread, schedule) sends what readers would not show.
   */
  encrypt(scheme: Scheme, channelId: string, participants: readonly string[], text: string, maxChars = MAX_MESSAGE_CHARS): Promise<{ ciphertext: string; remember: (messageId: string) => Promise<void> }> {
    if (text.length > maxChars) return Promise.reject(new ApiError(0, "MESSAGE_TOO_LONG", describeLimit("A message", maxChars)));
    return this.run(async () => {
      const self = { userId: this.userId, deviceId: this.device.deviceId };
      const wanted = selectRecipientDevices(await this.devicesOf(participants), participants, self);
      const recipients = await this.ensureSessions(wanted);
      if (scheme === "pw") {
        if (recipients.length === 0) throw new ApiError(0, "NO_DEVICES", "Nobody in this conversation has a device that can read messages yet.");
        const list = recipients.map((r) => ({ deviceId: r.deviceId, session: this.sessions.get(deviceKey(r))![0]! }));
        const { envelope, messageKeys } = encryptForDevices(this.device.deviceId, list, encodeChatPlaintext(text));
        const first = list[0]!;
        const key = messageKeys.get(first.deviceId)!;
        const ad = encodeBase64url(first.session.ratchet.associatedData);
        await this.save();
        return {
          ciphertext: toWire(encodePairwiseEnvelope(envelope)),
          remember: (id) => this.run(async () => {
            this.archive.rememberMessageKey(id, key);
            this.state.ads[id] = { ad, entry: first.deviceId };
            await this.save();
            this.scheduleBackup();
          }),
        };
      }
      const own = this.senderKeys.own.get(channelId);
      const record = this.state.distributed[channelId];
      const holders = new Set(own && record?.keyId === own.keyId ? record.devices : []);
      const plan = planSenderKey(own, holders, recipients, Date.now());
      const key = plan.action === "keep" ? own! : plan.action === "rotate" ? this.senderKeys.rotateOwnKey(channelId, Date.now()) : this.senderKeys.getOrCreateOwnKey(channelId, Date.now()).key;
      if (plan.action !== "keep") holders.clear();
      if (plan.distributeTo.length > 0) {
        const bytes = encodeSenderKeyDistributionBytes(key);
        const list = plan.distributeTo.map((r) => ({ deviceId: r.deviceId, session: this.sessions.get(deviceKey(r))![0]! }));
        const { envelope } = encryptForDevices(this.device.deviceId, list, bytes);
        await this.save(); // ratchets advanced: persist before the network call
        const messages = envelope.recipients.map((entry, i) => ({
          user_id: plan.distributeTo[i]!.userId,
          device_id: entry.deviceId,
          ciphertext: toWire(encodeRatchetMessage(entry.message)),
        }));
        for (let i = 0; i < messages.length; i += 200) {
          await callApi("POST", "/api/e2ee/to-device", { sender_device_id: this.device.deviceId, messages: messages.slice(i, i + 200) });
        }
        for (const r of plan.distributeTo) holders.add(deviceKey(r));
      }
      this.state.distributed[channelId] = { keyId: key.keyId, devices: [...holders] };
      const { message, messageKey } = encryptGroupMessage(key, this.device.deviceId, encodeChatPlaintext(text));
      await this.save();
      return {
        ciphertext: toWire(encodeSenderKeyMessage(message)),
        remember: (id) => this.run(async () => {
          this.archive.rememberMessageKey(id, messageKey);
          await this.save();
          this.scheduleBackup();
        }),
      };
    });
  }

  /**
   * Decrypts a stored or live message; "waiting" when the keys have not arrived (yet). Every
   * decrypted text the chat shows comes through here (timeline, edits, thread, pins, bookmarks,
   * scheduled, polls), so this is where the length limit holds for received text: a modified
   * client can encrypt anything, and text longer than `maxChars` is "failed" with a notice.
   */
  decrypt(message: ChatMessage, maxChars = MAX_MESSAGE_CHARS): Promise<DecryptOutcome> {
    return this.run(async () => {
      if (!message.ciphertext) return { status: "failed", reason: "deleted" };
      try {
        const text = this.decryptNow(message);
        if (text === null) return { status: "waiting", reason: "Waiting for the keys to this message…" };
        await this.save();
        this.scheduleBackup();
        return checkReceivedText("Message", text, maxChars);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "UNKNOWN_SENDER_KEY" || code === "NO_SESSION") return { status: "waiting", reason: "Waiting for the keys to this message…" };
        if (code === "NOT_FOR_THIS_DEVICE") return { status: "waiting", reason: "Sent before this device was set up: restore your key backup to read it." };
        return { status: "failed", reason: `This message could not be decrypted (${code ?? "error"}).` };
      }
    });
  }

  private decryptNow(message: ChatMessage): string | null {
    // A scheduled message's key was archived under its client id when it was encrypted.
    const byClient = message.client_id ? `client:${message.client_id}` : "";
    const archived = this.archive.findMessageKey(message.id) ?? (byClient ? this.archive.findMessageKey(byClient) : undefined);
    const bytes = fromWire(message.ciphertext!);
    if (message.scheme === "sk") {
      const group = parseSenderKeyMessage(bytes);
      if (archived) {
        try {
          return decodeChatPlaintext(decryptGroupMessageWithKey(archived, message.channel_id, message.sender_device_id, group));
        } catch {
          // An edit replaced the ciphertext: the archived key is the old one's; read it live.
        }
      }
      if (message.sender_device_id === this.device.deviceId) return null; // own message whose key was never archived
      const state = this.senderKeys.received.get(`${message.channel_id}/${message.sender_device_id}`)?.find((k) => k.keyId === group.keyId);
      if (!state) return null;
      const { plaintext, messageKey } = decryptGroupMessage(state, group);
      this.archive.rememberMessageKey(message.id, messageKey);
      return decodeChatPlaintext(plaintext);
    }
    const envelope = parsePairwiseEnvelope(bytes);
    if (archived) {
      const ad = this.state.ads[message.id] ?? (byClient ? this.state.ads[byClient] : undefined);
      if (ad) {
        const entry = envelope.recipients.find((r) => r.deviceId === ad.entry);
        try {
          if (entry) return decodeChatPlaintext(decryptRatchetMessageWithKey(archived, decodeBase64url(ad.ad), entry.message));
        } catch {
          // edited since: fall through to the live path
        }
      }
      const text = this.decryptRestored(message, envelope, archived);
      if (text !== null) return text;
    }
    const entry = envelope.recipients.find((r) => r.deviceId === this.device.deviceId);
    if (!entry) throw Object.assign(new Error("not for this device"), { code: "NOT_FOR_THIS_DEVICE" }); // sent before this device existed
    const key = `${message.sender_id}/${envelope.senderDeviceId}`;
    const sessions = this.sessions.get(key) ?? [];
    const result = receivePairwiseMessage(this.device, sessions, { userId: message.sender_id, deviceId: envelope.senderDeviceId }, entry.message);
    this.sessions.set(key, promoteSession(sessions, result.session));
    this.archive.rememberMessageKey(message.id, result.messageKey);
    this.state.ads[message.id] = { ad: encodeBase64url(result.session.ratchet.associatedData), entry: entry.deviceId };
    return decodeChatPlaintext(result.plaintext);
  }

  /** History read by a device whose keys came from the backup (see restoreFromBackup). */
  private decryptRestored(message: ChatMessage, envelope: ReturnType<typeof parsePairwiseEnvelope>, key: Uint8Array): string | null {
    for (const r of this.state.restored) {
      const sent = envelope.senderDeviceId === r.deviceId;
      const entry = sent ? envelope.recipients[0] : envelope.recipients.find((x) => x.deviceId === r.deviceId);
      if (!entry) continue;
      for (const ad of r.adByPeer[sent ? entry.deviceId : envelope.senderDeviceId] ?? []) {
        try {
          return decodeChatPlaintext(decryptRatchetMessageWithKey(key, decodeBase64url(ad), entry.message));
        } catch {
          // another session's AD
        }
      }
    }
    return null;
  }

  /** Fetches, decrypts and acknowledges queued to-device messages (sender key distributions). */
  processToDevice(): Promise<number> {
    return this.run(async () => {
      let accepted = 0;
      for (;;) {
        const after = this.state.toDeviceAfter ? `&after=${encodeURIComponent(this.state.toDeviceAfter)}` : "";
        const { messages } = await callApi<{ messages: { id: string; sender_id: string; sender_device_id: string; ciphertext: string }[] }>(
          "GET",
          `/api/e2ee/to-device?device_id=${encodeURIComponent(this.device.deviceId)}${after}`,
        );
        if (messages.length === 0) break;
        for (const m of messages) {
          try {
            const key = `${m.sender_id}/${m.sender_device_id}`;
            const sessions = this.sessions.get(key) ?? [];
            const ratchetMessage = parseRatchetMessage(fromWire(m.ciphertext));
            const result = receivePairwiseMessage(this.device, sessions, { userId: m.sender_id, deviceId: m.sender_device_id }, ratchetMessage);
            this.sessions.set(key, promoteSession(sessions, result.session));
            this.senderKeys.acceptDistribution(result.session, result.plaintext);
            accepted++;
          } catch {
            // A forged, replayed or undecryptable message: drop it (acked below) rather than loop on it.
          }
          this.state.toDeviceAfter = m.id;
        }
        await this.save();
        await callApi("POST", "/api/e2ee/to-device/ack", { device_id: this.device.deviceId, up_to_id: this.state.toDeviceAfter });
        if (messages.length < 50) break;
      }
      return accepted;
    });
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
      const current = parseKeyBackupBlob(await fetchText("/api/keys/backup"));
      version = Math.max(version, current.version);
    } catch {
      // none yet
    }
    const sessions = [...this.sessions.values()].flat();
    const blob = createKeyBackup(recoveryKey, { createdAt: Date.now(), device: this.device, sessions, senderKeys: this.senderKeys, archive: this.archive }, version + 1);
    await callApi("PUT", "/api/keys/backup", encodeKeyBackupBlob(blob));
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
      const blob = parseKeyBackupBlob(await fetchText("/api/keys/backup"));
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
