// Sending: a message encrypted for a channel's readers (pairwise for DMs, our sender key for
// channels), its key archived for history, and our sender key shared with the devices that lack it.

import {
  encodeBase64url,
  encodePairwiseEnvelope,
  encodeSenderKeyDistributionBytes,
  encodeSenderKeyMessage,
  encryptForDevices,
  encryptGroupMessage,
  type OwnSenderKey,
} from "../e2ee/library.ts";
import type { CallRecord } from "./call-record.ts";
import { describeLimit, MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";
import { ApiError } from "./api.ts";
import { deviceKey, type DeviceRef, planSenderKey } from "./recipients.ts";
import type { Scheme } from "./types.ts";
import { type EngineState, toWire } from "./engine-state.ts";
import { encodeChatPlaintext } from "./plaintext.ts";
import { ensureSessions, postToDevices } from "./engine-devices.ts";
import { scheduleBackup } from "./engine-backup.ts";

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
export function encrypt(core: EngineState, scheme: Scheme, channelId: string, recipients: readonly DeviceRef[], text: string, maxChars = MAX_MESSAGE_CHARS, archiveAs?: string, files?: unknown[], call?: CallRecord, preview?: unknown, forwarded?: string): Promise<{ ciphertext: string; remember: (messageId: string) => Promise<void> }> {
  if (text.length > maxChars) return Promise.reject(new ApiError(0, "MESSAGE_TOO_LONG", describeLimit("A message", maxChars)));
  return core.run(async () => {
    if (scheme === "pw") {
      const ready = await ensureSessions(core, recipients);
      if (ready.length === 0) throw new ApiError(0, "NO_DEVICES", "Nobody in this conversation has a device that can read messages yet.");
      const list = ready.map((r) => ({ deviceId: r.deviceId, session: core.sessions.get(deviceKey(r))![0]! }));
      const { envelope, messageKeys } = encryptForDevices(core.device.deviceId, list, encodeChatPlaintext(text, files, call, preview, forwarded));
      const first = list[0]!;
      const key = messageKeys.get(first.deviceId)!;
      const ad = encodeBase64url(first.session.ratchet.associatedData);
      if (archiveAs) {
        core.archive.rememberMessageKey(archiveAs, key);
        core.state.ads[archiveAs] = { ad, entry: first.deviceId };
      }
      await core.save();
      return {
        ciphertext: toWire(encodePairwiseEnvelope(envelope)),
        remember: (id) => core.run(async () => {
          core.archive.rememberMessageKey(id, key);
          core.state.ads[id] = { ad, entry: first.deviceId };
          forgetProvisional(core, archiveAs, id);
          await core.save();
          scheduleBackup(core);
        }),
      };
    }
    const key = await distributeOwnKey(core, channelId, recipients, true);
    const { message, messageKey } = encryptGroupMessage(key, core.device.deviceId, encodeChatPlaintext(text, files, call, preview, forwarded));
    if (archiveAs) core.archive.rememberMessageKey(archiveAs, messageKey);
    await core.save();
    return {
      ciphertext: toWire(encodeSenderKeyMessage(message)),
      remember: (id) => core.run(async () => {
        core.archive.rememberMessageKey(id, messageKey);
        forgetProvisional(core, archiveAs, id);
        await core.save();
        scheduleBackup(core);
      }),
    };
  });
}

/** Once a sent message's key is archived under its id, its provisional client-id copy goes. */
function forgetProvisional(core: EngineState, archiveAs: string | undefined, id: string): void {
  if (!archiveAs || archiveAs === id) return;
  core.archive.forgetMessageKey(archiveAs);
  delete core.state.ads[archiveAs];
}

/**
 * Our sender key for the channel, given to every reader device that lacks it (planSenderKey):
 * created when missing, rotated when a device that held it is no longer a reader's (or after
 * 7 days / 1000 messages). `sending`: for a send now; otherwise (a live viewers:changed) only an
 * existing key is shared with new devices, and a rotation waits for the next send.
 */
function distributeOwnKey(core: EngineState, channelId: string, recipients: readonly DeviceRef[], sending: true): Promise<OwnSenderKey>;
function distributeOwnKey(core: EngineState, channelId: string, recipients: readonly DeviceRef[], sending: false): Promise<OwnSenderKey | null>;
async function distributeOwnKey(core: EngineState, channelId: string, recipients: readonly DeviceRef[], sending: boolean): Promise<OwnSenderKey | null> {
  const own = core.senderKeys.own.get(channelId);
  const record = core.state.distributed[channelId];
  const holders = new Set(own && record?.keyId === own.keyId ? record.devices : []);
  const plan = planSenderKey(own, holders, recipients, Date.now());
  if (!sending && plan.action !== "keep") return null;
  const key = plan.action === "keep" ? own! : plan.action === "rotate" ? core.senderKeys.rotateOwnKey(channelId, Date.now()) : core.senderKeys.getOrCreateOwnKey(channelId, Date.now()).key;
  if (plan.action !== "keep") holders.clear();
  if (plan.distributeTo.length > 0) {
    const bytes = encodeSenderKeyDistributionBytes(key);
    // Sessions only with the devices that need the key now (a large channel's other devices
    // already hold it). Live sharing skips a device whose keys cannot be fetched; a send fails.
    const ready = await ensureSessions(core, plan.distributeTo, !sending);
    const queued = await postToDevices(core, ready.map((ref) => ({ ref, bytes })));
    for (const k of queued) holders.add(k);
    core.count("distributionsSent", queued.size);
  }
  core.state.distributed[channelId] = { keyId: key.keyId, devices: [...holders] };
  return key;
}
/**
 * The readers of a channel changed (viewers:changed): devices that are new get our current
 * sender key now, before our next send, so they read it live. Nothing happens without a key of
 * ours (we never sent here) or when the change needs a rotation (the next send rotates).
 */
export function shareSenderKey(core: EngineState, channelId: string, recipients: readonly DeviceRef[]): Promise<void> {
  return core.run(async () => {
    if (!core.senderKeys.own.has(channelId)) return;
    await distributeOwnKey(core, channelId, recipients, false);
    await core.save();
  });
}
