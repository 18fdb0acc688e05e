// The to-device queue, the receiving side: Sender Key distributions and key messages from other
// devices (key-requests.ts), and the answers to their key requests — only keys of items the
// server says the requesting user may read, from the archive or worked out from history.

import { encodeBase64url, parseRatchetMessage, promoteSession, receivePairwiseMessage } from "../e2ee/library.ts";
import {
  chunk,
  encodeKeyMessage,
  type ForwardedKey,
  type KeyMessage,
  MAX_ITEMS_PER_MESSAGE,
  MAX_KEYS_PER_MESSAGE,
  parseKeyMessage,
  type Refusal,
} from "./key-requests.ts";
import { deviceKey, type DeviceRef } from "./recipients.ts";
import { normaliseMessage } from "./types.ts";
import { type EngineState, fromWire, type KeyAsk } from "./engine-state.ts";
import { ensureSessions, postToDevices } from "./engine-devices.ts";
import { decryptNow } from "./engine-read.ts";

/** Forwarded keys kept per item until one opens it (a wrong one must not block a right one). */
const MAX_CANDIDATES = 4;

/**
 * Fetches, decrypts and acknowledges queued to-device messages: Sender Key distributions, and
 * the key-request messages (key-requests.ts) — requests are answered after the whole queue is
 * read, so a cancellation queued behind its request withdraws it before any work is done.
 */
export function processToDevice(core: EngineState): Promise<number> {
  return core.run(async () => {
    let accepted = 0;
    const requests = new Map<string, KeyAsk>();
    for (;;) {
      const after = core.state.toDeviceAfter ? `&after=${encodeURIComponent(core.state.toDeviceAfter)}` : "";
      const { messages } = await core.api.call<{ messages: { id: string; sender_id: string; sender_device_id: string; ciphertext: string }[] }>(
        "GET",
        `/api/e2ee/to-device?device_id=${encodeURIComponent(core.device.deviceId)}${after}`,
      );
      if (messages.length === 0) break;
      for (const m of messages) {
        try {
          const from = { userId: m.sender_id, deviceId: m.sender_device_id };
          const key = deviceKey(from);
          const sessions = core.sessions.get(key) ?? [];
          const ratchetMessage = parseRatchetMessage(fromWire(m.ciphertext));
          const result = receivePairwiseMessage(core.device, sessions, from, ratchetMessage);
          core.sessions.set(key, promoteSession(sessions, result.session));
          const keyMessage = parseKeyMessage(result.plaintext);
          if (keyMessage) receiveKeyMessage(core, keyMessage, from, requests);
          else {
            core.senderKeys.acceptDistribution(result.session, result.plaintext);
            core.count("distributionsReceived");
          }
          accepted++;
        } catch {
          // A forged, replayed or undecryptable message: drop it (acked below) rather than loop on it.
        }
        core.state.toDeviceAfter = m.id;
      }
      await core.save();
      await core.api.call("POST", "/api/e2ee/to-device/ack", { device_id: core.device.deviceId, up_to_id: core.state.toDeviceAfter });
      if (messages.length < 50) break;
    }
    if (requests.size) await answerKeyRequests(core, [...requests.values()]);
    return accepted;
  });
}

/**
 * A key message from `from`: a request is collected (answered after the queue), a cancel
 * withdraws one collected from the same device, forwarded keys are kept as candidates — only
 * for items this device asked that device for — and refusals are noted.
 */
function receiveKeyMessage(core: EngineState, m: KeyMessage, from: DeviceRef, requests: Map<string, KeyAsk>): void {
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
  const pending = core.state.keyRequests ?? {};
  const askedThem = (id: string) => pending[id]?.c === m.c && pending[id]!.asked[fromKey] !== undefined;
  for (const fk of m.k) {
    if (!askedThem(fk[0])) continue;
    const list = ((core.state.forwarded ??= {})[fk[0]] ??= []);
    if (list.length < MAX_CANDIDATES && !list.some(([k]) => k[1] === fk[1])) {
      list.push([fk, fromKey]);
      core.count("keysOffered");
    }
  }
  for (const [id, why] of m.n) {
    if (!askedThem(id)) continue;
    core.count("refusalsReceived");
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
async function answerKeyRequests(core: EngineState, requests: KeyAsk[]): Promise<void> {
  const out: { ref: DeviceRef; bytes: Uint8Array }[] = [];
  for (const r of requests) {
    if (r.i.size === 0 || !core.limiter.allow(deviceKey(r.ref), Date.now())) continue;
    const keys: ForwardedKey[] = [];
    const refused: [string, Refusal][] = [];
    for (const ids of chunk([...r.i], MAX_ITEMS_PER_MESSAGE)) {
      let answer: { entitled: { id: string; seq: number | null; client_id: string | null }[]; refused: { id: string; reason: Refusal }[] };
      try {
        answer = await core.api.call("GET", `/api/channels/${r.c}/key-entitlements?user_id=${encodeURIComponent(r.ref.userId)}&ids=${ids.join(",")}`);
      } catch {
        for (const id of ids) refused.push([id, "UNAVAILABLE"]); // we cannot check: never forward unchecked
        continue;
      }
      for (const x of answer.refused) refused.push([x.id, x.reason]);
      const derivable = answer.entitled.filter((e) => e.seq !== null && !findKey(core, e.id, e.client_id));
      if (derivable.length) await deriveKeys(core, r.c, derivable as { id: string; seq: number }[]);
      for (const e of answer.entitled) {
        const k = findKey(core, e.id, e.client_id);
        if (k) keys.push(k);
        else refused.push([e.id, "UNAVAILABLE"]);
      }
    }
    core.count("keysForwarded", keys.length);
    core.count("refusalsSent", refused.length);
    const keyParts = chunk(keys, MAX_KEYS_PER_MESSAGE);
    const refusedParts = chunk(refused, MAX_ITEMS_PER_MESSAGE);
    for (let i = 0; i < Math.max(keyParts.length, refusedParts.length); i++) {
      out.push({ ref: r.ref, bytes: encodeKeyMessage({ t: "kf", c: r.c, k: keyParts[i] ?? [], n: refusedParts[i] ?? [] }) });
    }
  }
  if (out.length === 0) return;
  const ready = new Set((await ensureSessions(core, out.map((o) => o.ref), true)).map(deviceKey));
  const queued = await postToDevices(core, out.filter((o) => ready.has(deviceKey(o.ref)))).catch(() => new Set<string>());
  core.count("keyForwardsSent", out.filter((o) => queued.has(deviceKey(o.ref))).length);
  await core.save();
}

/** The key this device holds for an item (a scheduled message's under its client id), as forwarded. */
function findKey(core: EngineState, id: string, clientId: string | null): ForwardedKey | null {
  const name = core.archive.findMessageKey(id) ? id : clientId && core.archive.findMessageKey(`client:${clientId}`) ? `client:${clientId}` : null;
  if (!name) return null;
  const key = encodeBase64url(core.archive.findMessageKey(name)!);
  const ad = core.state.ads[name];
  return ad ? [id, key, ad.ad, ad.entry] : [id, key];
}

/**
 * Keys this device never archived but can still work out: it holds the sender's key from
 * before these messages (it was a reader then) and never opened them. Reads the history pages
 * that hold them (at most 20 pages) and decrypts those, which archives their keys.
 */
async function deriveKeys(core: EngineState, channelId: string, items: { id: string; seq: number }[]): Promise<void> {
  const wanted = new Set(items.map((i) => i.id));
  const seqs = items.map((i) => i.seq).sort((a, b) => a - b);
  let after = seqs[0]! - 1;
  const last = seqs[seqs.length - 1]!;
  for (let page = 0; page < 20 && after < last && wanted.size > 0; page++) {
    const { messages, has_more } = await core.api.call<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${channelId}/messages?after_seq=${after}&limit=100`).catch(() => ({ messages: [], has_more: false }));
    for (const raw of messages) {
      const m = normaliseMessage(raw);
      if (!m) continue;
      after = Math.max(after, m.seq);
      if (!wanted.delete(m.id) || !m.ciphertext) continue;
      try {
        decryptNow(core, m);
      } catch {
        // damaged: nothing to forward
      }
    }
    if (!has_more || messages.length === 0) break;
  }
}
