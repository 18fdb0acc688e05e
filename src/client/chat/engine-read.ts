// Reading messages: the key from the message-key archive, a forwarded key, the backup's sessions
// or the live session / sender key; a key this device lacks is asked for (engine-key-requests.ts)
// and the reader is told what it waits for (DecryptOutcome).

import {
  decodeBase64url,
  decryptGroupMessage,
  decryptGroupMessageWithKey,
  decryptRatchetMessageWithKey,
  encodeBase64url,
  parsePairwiseEnvelope,
  parseSenderKeyMessage,
  promoteSession,
  receivePairwiseMessage,
} from "../e2ee/library.ts";
import type { CallRecord } from "./call-record.ts";
import { checkReceivedText, MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";
import { askedAgo, prunePending } from "./key-requests.ts";
import { authorName, type ChatMessage } from "./types.ts";
import { type Ad, type EngineState, fromWire } from "./engine-state.ts";
import { type ChatContent, decodeChatContent } from "./plaintext.ts";
import { scheduleBackup } from "./engine-backup.ts";
import { acceptForwarded, scheduleKeyFlush, settleRequest } from "./engine-key-requests.ts";

/**
 * What a reader sees for a message (issue 11 §4): its text, or exactly one of
 *  - waiting: the key was asked for (whom, how long ago); a Retry asks again at once;
 *  - unavailable: sent before the reader joined a channel whose history is not shared;
 *  - failed: it cannot be decrypted, with the plain reason (never "replayed" for a message this
 *    device never read: a key it lacks is asked for, not reported as a replay).
 */
export type DecryptOutcome =
  | { status: "ok"; text: string; files?: unknown[]; call?: CallRecord; preview?: unknown; forwarded?: string }
  | { status: "waiting"; reason: string }
  | { status: "unavailable"; reason: string }
  | { status: "failed"; reason: string };

export const BEFORE_JOINED = "Sent before you joined — this channel does not share history.";

/** A decryption failure in plain language (docs/crypto.md "What a reader sees"); null: a key is missing. */
function failureOf(code: string | undefined): string | null {
  if (code === "DECRYPT_FAILED" || code === "INVALID_SIGNATURE") return "Can't be decrypted: it was altered or damaged after it was sent, so it is not shown.";
  if (code === "UNSUPPORTED_VERSION") return "Can't be decrypted: it was written by a newer version of Hearth. Reload the page to update.";
  return `Can't be decrypted: its encrypted form is not one this app can read (${code ?? "unknown error"}).`;
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
export function decrypt(core: EngineState, message: ChatMessage, maxChars = MAX_MESSAGE_CHARS): Promise<DecryptOutcome> {
  return core.run(async () => {
    if (!message.ciphertext) return { status: "failed", reason: "This message was deleted." };
    const pending = core.state.keyRequests?.[message.id];
    let failure: string | null = null;
    try {
      const content = decryptNow(core, message);
      if (content !== null) {
        if (pending) settleRequest(core, message.id, null);
        await core.save();
        scheduleBackup(core);
        const shown = checkReceivedText("Message", content.text, maxChars);
        return shown.status === "ok" ? { ...shown, files: content.files, call: content.call, preview: content.preview, forwarded: content.forwarded } : shown;
      }
    } catch (error) {
      failure = failureOf((error as { code?: string }).code);
    }
    if (failure) return { status: "failed", reason: failure };
    const context = core.contexts.get(message.channel_id);
    if (context?.history === "joined" && context.since !== null && Date.parse(message.created_at) < context.since) return { status: "unavailable", reason: BEFORE_JOINED };
    if (pending?.refused === "BEFORE_JOINED") return { status: "unavailable", reason: BEFORE_JOINED };
    if (pending?.refused === "NOT_A_VIEWER") return { status: "failed", reason: "Can't be decrypted: the members who hold its key say you could not read this conversation when it was sent." };
    if (!pending) {
      // Saved by the request round (flushKeyRequests); lost on a reload before it, then noted again.
      (core.state.keyRequests ??= {})[message.id] = { c: message.channel_id, s: message.sender_id, d: message.sender_device_id, at: 0, last: 0, n: 0, next: 0, asked: {} };
      prunePending(core.state.keyRequests);
    }
    scheduleKeyFlush(core);
    const from = message.sender_id === core.userId ? "your other devices" : `${authorName(message)}'s device`;
    // Nobody who might hold it is online (the server's pick): say when it will come.
    const later = core.holders.get(message.channel_id)?.online.size === 0 ? " Nobody who has it is online; it will appear when one of them comes online." : "";
    return { status: "waiting", reason: `Waiting for the key from ${from} (${askedAgo(pending, Date.now())}).${later}` };
  });
}
/**
 * The text, or null when this device holds no key for it. Keys are tried in order: the
 * message-key archive (history), keys other devices forwarded (each proven by opening the
 * message before it is kept), then the live session or sender key.
 */
export function decryptNow(core: EngineState, message: ChatMessage): ChatContent | null {
  // A scheduled message's key was archived under its client id when it was encrypted.
  const byClient = message.client_id ? `client:${message.client_id}` : "";
  const archived = core.archive.findMessageKey(message.id) ?? (byClient ? core.archive.findMessageKey(byClient) : undefined);
  const bytes = fromWire(message.ciphertext!);
  const candidates = core.state.forwarded?.[message.id] ?? [];
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
        acceptForwarded(core, message.id, fk, from);
        return text;
      } catch {
        // a key that does not open it: try the next one
      }
    }
    if (message.sender_device_id === core.device.deviceId) return null; // own message whose key was never archived
    const state = core.senderKeys.received.get(`${message.channel_id}/${message.sender_device_id}`)?.find((k) => k.keyId === group.keyId);
    if (!state) return null;
    try {
      const { plaintext, messageKey } = decryptGroupMessage(state, group);
      core.archive.rememberMessageKey(message.id, messageKey);
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
    const ad = core.state.ads[message.id] ?? (byClient ? core.state.ads[byClient] : undefined);
    if (ad) {
      try {
        const text = openWith(archived, ad);
        if (text !== null) return text;
      } catch {
        // edited since: fall through to the live path
      }
    }
    const text = decryptRestored(core, message, envelope, archived);
    if (text !== null) return text;
  }
  for (const [fk, from] of candidates) {
    if (!fk[2] || !fk[3]) continue;
    try {
      const text = openWith(decodeBase64url(fk[1]), { ad: fk[2], entry: fk[3] });
      if (text === null) continue;
      acceptForwarded(core, message.id, fk, from);
      return text;
    } catch {
      // does not open it
    }
  }
  const entry = envelope.recipients.find((r) => r.deviceId === core.device.deviceId);
  if (!entry) return null; // sent before this device existed: another device may forward the key
  const key = `${message.sender_id}/${envelope.senderDeviceId}`;
  const sessions = core.sessions.get(key) ?? [];
  try {
    const result = receivePairwiseMessage(core.device, sessions, { userId: message.sender_id, deviceId: envelope.senderDeviceId }, entry.message);
    core.sessions.set(key, promoteSession(sessions, result.session));
    core.archive.rememberMessageKey(message.id, result.messageKey);
    core.state.ads[message.id] = { ad: encodeBase64url(result.session.ratchet.associatedData), entry: entry.deviceId };
    return decodeChatContent(result.plaintext);
  } catch (error) {
    // Read before (its key was used) but not archived here, or no session: ask for the key.
    const code = (error as { code?: string }).code;
    if (code === "REPLAYED_MESSAGE" || code === "NO_SESSION" || code === "TOO_MANY_SKIPPED") return null;
    throw error;
  }
}
/** History read by a device whose keys came from the backup (see restoreFromBackup). */
function decryptRestored(core: EngineState, message: ChatMessage, envelope: ReturnType<typeof parsePairwiseEnvelope>, key: Uint8Array): ChatContent | null {
  for (const r of core.state.restored) {
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
