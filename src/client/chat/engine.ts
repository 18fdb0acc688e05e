// This browser's E2EE device as the chat uses it: identity in an IndexedDB store wrapped by a
// non-extractable key, registration with the key service, prekey upkeep, pairwise sessions,
// sender keys, the message-key archive for history, to-device key distribution, key requests
// (asking other devices for a missing key and answering their requests: key-requests.ts) and key
// backup. Every operation runs through one queue: ratchet and chain states change one at a time.

import {
  acceptServerIdentity,
  acknowledgePersonChange,
  checkPersonDevices,
  checkServerIdentityProof,
  createDeviceIdentity,
  decodeUtf8,
  getDeviceIdentityKeyBytes,
  IndexedDbKeyStore,
  markPersonVerified,
  MessageKeyArchive,
  restoreDeviceIdentity,
  SenderKeyStore,
  serialiseDeviceIdentity,
  serialiseSenderKeyStore,
  type DeviceIdentity,
  type KeyStore,
} from "../e2ee/library.ts";
import { computeSha512, signBytes, verifySignature } from "../e2ee/primitives.ts";
import { SIGNED_CONTEXT } from "../../shared/call-attestation.ts";
import type { CallRecord } from "./call-record.ts";
import { MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";
import { pageApi, type Api } from "./api.ts";
import type { DeviceRef } from "./recipients.ts";
import type { ChatMessage, Scheme } from "./types.ts";
import type { ViewerList } from "./viewers.ts";
import { DEVICE_RECORD, EngineState, STATE_RECORD, type EngineStats, type PersistedState } from "./engine-state.ts";
import { maintainPrekeys, openFromDevice, register, resetDevice, sealForDevice } from "./engine-devices.ts";
import { encrypt, shareSenderKey } from "./engine-send.ts";
import { decrypt, decryptNow, type DecryptOutcome } from "./engine-read.ts";
import { decryptVersion, keepVersionKey } from "./engine-versions.ts";
import type { ChatContent } from "./plaintext.ts";
import { nudgeKeyRequests, retryKeyRequest } from "./engine-key-requests.ts";
import { processToDevice } from "./engine-to-device.ts";
import { archivedKey, createBackup, hasBackupKey, restoreFromBackup } from "./engine-backup.ts";

export { BEFORE_JOINED, type DecryptOutcome } from "./engine-read.ts";
export type { EngineStats } from "./engine-state.ts";
export { decodeChatContent, decodeChatPlaintext, encodeChatPlaintext, type ChatContent } from "./plaintext.ts";

/**
 * The engine's API. Its parts share one EngineState (engine-state.ts) and run every operation
 * through its queue: devices and sessions (engine-devices.ts), sending (engine-send.ts), reading
 * (engine-read.ts), key requests (engine-key-requests.ts), the to-device queue and answers to
 * other devices' requests (engine-to-device.ts), key backup (engine-backup.ts).
 */
export class ChatEngine {
  private constructor(private readonly core: EngineState) {}

  get userId(): string {
    return this.core.userId;
  }

  /** How this engine reaches the server (the page's API in a browser). */
  get api(): Api {
    return this.core.api;
  }

  /** Counters for tests, the soak and curious readers (also on <html data-e2ee-stats>). */
  get stats(): EngineStats {
    return this.core.stats;
  }

  /** A new device of a user who already had others, not restored yet: history needs the backup. */
  get needsRestore(): boolean {
    return this.core.state.needsRestore === true;
  }

  get deviceId(): string {
    return this.core.device.deviceId;
  }

  /**
   * Trust records (trust-store.ts) and what safety numbers need (safety-numbers-core.ts) for the Verify panel,
   * the key-change interstitial and the server pin (trust-ui.ts, in the lazy chunk: it gets them
   * as values so no module is shared between chat.js and the chunk). `key`: signing ‖ DH (64 B).
   */
  readonly trust = {
    /** This device's identity key (signing ‖ DH) and the SHA-512 the safety numbers use. */
    ownKey: () => getDeviceIdentityKeyBytes(this.core.device),
    sha512: computeSha512,
    markVerified: (userId: string, devices: { deviceId: string; identityKey: Uint8Array }[]) => markPersonVerified(this.core.store, userId, devices),
    check: (userId: string, devices: { deviceId: string; identityKey?: Uint8Array }[]) => checkPersonDevices(this.core.store, userId, devices),
    acknowledge: (userId: string) => acknowledgePersonChange(this.core.store, userId),
    /** The server's answer to a fresh challenge (trust-ui.ts asks), checked against the pin. */
    checkServer: (publicKey: Uint8Array, challenge: Uint8Array, signature: Uint8Array) => checkServerIdentityProof(this.core.store, publicKey, challenge, signature),
    acceptServer: (publicKey: Uint8Array) => acceptServerIdentity(this.core.store, publicKey),
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
    const engine = new ChatEngine(new EngineState(userId, keyStore, device, state, api));
    if (!state.registered) await register(engine.core);
    return engine;
  }

  /** A new identity after this device was revoked elsewhere (engine-devices.ts). */
  resetDevice(): Promise<void> {
    return resetDevice(this.core);
  }

  /** One-time prekeys below the watermark → a new batch; a signed prekey older than a week → rotate. */
  maintainPrekeys(): Promise<void> {
    return maintainPrekeys(this.core);
  }

  /** The readers of a channel as the page last fetched them (viewers.ts): who may be asked, and since when this user reads. */
  setChannelContext(channelId: string, list: ViewerList): void {
    this.core.contexts.set(channelId, list);
  }

  // The call client (src/client/voice, its own bundle): the DTLS fingerprint attestation
  // (docs/crypto.md, "Calls") travels as one pairwise ratchet message in `rtc:signal`, outside the
  // to-device queue, through the same sessions (and queue) as everything else here.
  /** Seals `bytes` for one device: the wire form of a pairwise ratchet message. */
  sealForDevice(ref: DeviceRef, bytes: Uint8Array): Promise<string> {
    return sealForDevice(this.core, ref, bytes);
  }

  /** Opens what `ref` sealed for this device; with that device's Ed25519 key (from its checked bundle). */
  openFromDevice(ref: DeviceRef, wire: string): Promise<{ plaintext: Uint8Array; signingKey: Uint8Array }> {
    return openFromDevice(this.core, ref, wire);
  }

  /** Signs a call attestation's signed bytes, and nothing else (they start with its context). */
  signCallBytes(bytes: Uint8Array): Uint8Array {
    if (decodeUtf8(bytes.subarray(0, SIGNED_CONTEXT.length)) !== SIGNED_CONTEXT) throw new Error("not a call attestation");
    return signBytes(this.core.device.signing.privateKey, bytes);
  }

  verifyCallBytes(signingKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
    return verifySignature(signingKey, bytes, signature);
  }

  /** Encrypts `text` for the channel's readers (engine-send.ts). */
  encrypt(scheme: Scheme, channelId: string, recipients: readonly DeviceRef[], text: string, maxChars = MAX_MESSAGE_CHARS, archiveAs?: string, files?: unknown[], call?: CallRecord, preview?: unknown, forwarded?: string): Promise<{ ciphertext: string; remember: (messageId: string) => Promise<void> }> {
    return encrypt(this.core, scheme, channelId, recipients, text, maxChars, archiveAs, files, call, preview, forwarded);
  }

  /** Edit history (engine-versions.ts): keep the on-screen version's key before an edit replaces it. */
  keepVersionKey(messageId: string, oldCiphertext: string | null): Promise<void> {
    return keepVersionKey(this.core, messageId, oldCiphertext);
  }

  /** A previous version of an edited message, with the key kept for it (no key request). */
  decryptVersion(message: ChatMessage, ciphertext: string): Promise<ChatContent | null> {
    return decryptVersion(this.core, message, ciphertext);
  }

  /** Whether this device has sent in the channel (holds an own sender key there), as last loaded. */
  hasOwnSenderKey(channelId: string): boolean {
    return this.core.senderKeys.own.has(channelId);
  }

  /** The readers of a channel changed: new devices get our current sender key now (engine-send.ts). */
  shareSenderKey(channelId: string, recipients: readonly DeviceRef[]): Promise<void> {
    return shareSenderKey(this.core, channelId, recipients);
  }

  /** Decrypts a stored or live message, or says what the reader waits for (engine-read.ts). */
  decrypt(message: ChatMessage, maxChars = MAX_MESSAGE_CHARS): Promise<DecryptOutcome> {
    return decrypt(this.core, message, maxChars);
  }

  /**
   * The search index's backfill (docs/search.md): keys this device holds, no key requests; the
   * work yields to the page every ~25 ms and the state is saved once, if a key was newly archived.
   */
  decryptQuiet(messages: ChatMessage[]): Promise<Array<{ text: string; files?: unknown[] } | null>> {
    return this.core.run(async () => {
      const before = this.core.archive.size;
      const out = [];
      let slice = performance.now();
      for (const m of messages) {
        if (performance.now() - slice > 25) (await new Promise((r) => setTimeout(r, 0)), (slice = performance.now()));
        try {
          out.push(m.ciphertext && !m.webhook ? decryptNow(this.core, m) : null);
        } catch {
          out.push(null);
        }
      }
      if (this.core.archive.size !== before) await this.core.save();
      return out;
    });
  }

  /** The reader pressed Retry on a waiting message: ask every holder again now. */
  retryKeyRequest(channelId: string): void {
    retryKeyRequest(this.core, channelId);
  }

  /** A reader of the channel came online (presence): they may hold keys we wait for; ask now. */
  nudgeKeyRequests(channelId: string): void {
    nudgeKeyRequests(this.core, channelId);
  }

  /** Fetches, decrypts and acknowledges queued to-device messages (engine-to-device.ts). */
  processToDevice(): Promise<number> {
    return processToDevice(this.core);
  }

  /** A 32-byte key of this user kept in the message-key archive (engine-backup.ts). */
  archivedKey(name: string, create: boolean): Promise<Uint8Array | undefined> {
    return archivedKey(this.core, name, create);
  }

  /** Creates (or replaces) the backup; returns the recovery key to show once. */
  createBackup(): Promise<string> {
    return createBackup(this.core);
  }

  hasBackupKey(): Promise<boolean> {
    return hasBackupKey(this.core);
  }

  /** Restores history keys from the backup (engine-backup.ts). */
  restoreFromBackup(recoveryKeyText: string): Promise<{ messageKeys: number }> {
    return restoreFromBackup(this.core, recoveryKeyText);
  }
}
