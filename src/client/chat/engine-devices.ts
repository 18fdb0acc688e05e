// The chat engine's device (engine.ts): registration with the key service, prekey upkeep after a
// reset or when they run low, the pairwise sessions with other devices (X3DH to start) and the
// to-device queue every pairwise message travels through; and a call's attestation, sealed for one
// device through the same sessions.

import {
  checkContactIdentity,
  countOneTimePrekeysToGenerate,
  createDeviceIdentity,
  encodeDevicePublicBundle,
  encodeIdentityKeyBytes,
  encodePrekeyUpload,
  encodeRatchetMessage,
  encryptForDevices,
  exportDevicePublicBundle,
  generateOneTimePrekeys,
  parsePrekeyBundleList,
  parseRatchetMessage,
  promoteSession,
  receivePairwiseMessage,
  rotateSignedPrekey,
  shouldRotateSignedPrekey,
  startSessionAsInitiator,
} from "../e2ee/library.ts";
import { ApiError } from "./api.ts";
import { chunk } from "./key-requests.ts";
import { deviceKey, type DeviceRef } from "./recipients.ts";
import { type EngineState, fromWire, toWire } from "./engine-state.ts";

/** To-device refusals that name the entries they are about (the others in the call can go again). */
const LEAVE_OUT = new Set(["QUEUE_FULL", "DEVICE_NOT_FOUND", "USER_NOT_FOUND"]);

export async function register(core: EngineState): Promise<void> {
  const existing = await core.api.call<{ devices: { deviceId: string }[] }>("GET", `/api/keys/users/${core.userId}/devices`);
  core.state.needsRestore = existing.devices.some((d) => d.deviceId !== core.device.deviceId);
  try {
    await core.api.call("POST", "/api/keys/devices", encodeDevicePublicBundle(exportDevicePublicBundle(core.device)));
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "DEVICE_EXISTS")) throw error;
  }
  core.state.registered = true;
  await core.save();
}
/**
 * This device was revoked elsewhere (sends answer 400 UNKNOWN_DEVICE): set encryption up again
 * as a NEW device (fresh identity and id, registered through the key service). A revoked
 * identity is never registered again. Kept: the message-key archive and others' sender keys
 * (history stays readable); dropped: pairwise sessions, sender-key distribution records and the
 * to-device position, which belonged to the old device. Peers learn of the new device from
 * keys:changed and the device list, as for any new device.
 */
export function resetDevice(core: EngineState): Promise<void> {
  return core.run(async () => {
    core.device = createDeviceIdentity({ userId: core.userId, deviceId: crypto.randomUUID(), now: Date.now() });
    core.sessions.clear();
    core.state.distributed = {};
    core.state.toDeviceAfter = null;
    core.state.registered = false;
    await core.save(); // private halves first, as for the first registration
    await register(core);
  });
}

/** One-time prekeys below the watermark → a new batch; a signed prekey older than a week → rotate. */
export function maintainPrekeys(core: EngineState): Promise<void> {
  return core.run(async () => {
    const list = await core.api.call<{ devices: { deviceId: string; oneTimePrekeysRemaining?: number }[] }>("GET", `/api/keys/users/${core.userId}/devices`);
    const mine = list.devices.find((d) => d.deviceId === core.device.deviceId);
    if (!mine) return; // revoked elsewhere: the page says so via keys:changed
    const count = countOneTimePrekeysToGenerate(mine.oneTimePrekeysRemaining ?? 0);
    const rotate = shouldRotateSignedPrekey(core.device, Date.now());
    if (count === 0 && !rotate) return;
    const oneTimePrekeys = count > 0 ? generateOneTimePrekeys(core.device, count) : [];
    const signed = rotate ? rotateSignedPrekey(core.device, Date.now()) : undefined;
    await core.save(); // private halves first: an uploaded prekey we cannot open would be worse
    await core.api.call("POST", "/api/keys/prekeys", encodePrekeyUpload({
      deviceId: core.device.deviceId,
      oneTimePrekeys,
      signedPrekey: signed ? { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature } : undefined,
    }));
  });
}
/**
 * Starts X3DH sessions with the devices we have none with (bundles are fetched per user).
 * `tolerant`: a user whose bundles cannot be fetched (rate limit, no longer a contact) is left
 * out instead of failing the whole call (key requests are best effort; messages are not).
 */
export async function ensureSessions(core: EngineState, refs: readonly DeviceRef[], tolerant = false): Promise<DeviceRef[]> {
  const missing = refs.filter((r) => !core.sessions.get(deviceKey(r))?.length);
  for (const userId of new Set(missing.map((r) => r.userId))) {
    let bundles: ReturnType<typeof parsePrekeyBundleList>;
    try {
      bundles = parsePrekeyBundleList(await core.api.text(`/api/keys/users/${userId}/bundles`));
    } catch (error) {
      if (tolerant) continue;
      throw error;
    }
    for (const bundle of bundles) {
      const key = deviceKey(bundle);
      if (core.sessions.get(key)?.length || bundle.deviceId === core.device.deviceId) continue;
      const check = await checkContactIdentity(core.store, bundle.userId, bundle.deviceId, encodeIdentityKeyBytes(bundle));
      if (check.check === "changed" && typeof document !== "undefined") document.dispatchEvent(new CustomEvent("chat:identity-changed", { detail: { userId: bundle.userId, deviceId: bundle.deviceId } }));
      core.sessions.set(key, [startSessionAsInitiator(core.device, bundle)]);
    }
  }
  return refs.filter((r) => core.sessions.get(deviceKey(r))?.length);
}

/**
 * One pairwise message per device (each its own plaintext) through the to-device queue, 200 per
 * call. Returns the devices whose message was queued. A QUEUE_FULL refusal names the entries
 * that did not fit (our share of that device's queue is full): those are left out and the rest
 * is sent again, so one full device never fails a whole distribution. Devices without a
 * session are skipped. Ratchets advance here: the state is saved before the network call.
 */
export async function postToDevices(core: EngineState, items: readonly { ref: DeviceRef; bytes: Uint8Array }[]): Promise<Set<string>> {
  const queued = new Set<string>();
  const messages: { user_id: string; device_id: string; ciphertext: string }[] = [];
  for (const { ref, bytes } of items) {
    const session = core.sessions.get(deviceKey(ref))?.[0];
    if (!session) continue;
    const { envelope } = encryptForDevices(core.device.deviceId, [{ deviceId: ref.deviceId, session }], bytes);
    messages.push({ user_id: ref.userId, device_id: ref.deviceId, ciphertext: toWire(encodeRatchetMessage(envelope.recipients[0]!.message)) });
  }
  if (messages.length === 0) return queued;
  await core.save();
  for (let batch of chunk(messages, 200)) {
    for (let attempt = 0; batch.length > 0; attempt++) {
      try {
        await core.api.call("POST", "/api/e2ee/to-device", { sender_device_id: core.device.deviceId, messages: batch });
        for (const m of batch) queued.add(`${m.user_id}/${m.device_id}`);
        core.count("toDeviceBytesSent", batch.reduce((n, m) => n + m.ciphertext.length, 0));
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
export function sealForDevice(core: EngineState, ref: DeviceRef, bytes: Uint8Array): Promise<string> {
  return core.run(async () => {
    const session = (await ensureSessions(core, [ref])).length ? core.sessions.get(deviceKey(ref))![0]! : null;
    if (!session) throw new ApiError(0, "NO_SESSION", "No encryption session with that device.");
    const { envelope } = encryptForDevices(core.device.deviceId, [{ deviceId: ref.deviceId, session }], bytes);
    await core.save();
    return toWire(encodeRatchetMessage(envelope.recipients[0]!.message));
  });
}

/** Opens what `ref` sealed for this device; with that device's Ed25519 key (from its checked bundle). */
export function openFromDevice(core: EngineState, ref: DeviceRef, wire: string): Promise<{ plaintext: Uint8Array; signingKey: Uint8Array }> {
  return core.run(async () => {
    const key = deviceKey(ref);
    const sessions = core.sessions.get(key) ?? [];
    const result = receivePairwiseMessage(core.device, sessions, ref, parseRatchetMessage(fromWire(wire)));
    core.sessions.set(key, promoteSession(sessions, result.session));
    await core.save();
    return { plaintext: result.plaintext, signingKey: result.session.remote.signingKey };
  });
}
