// Key requests, the asking side (docs/crypto.md "Key requests"; the wire format and whom to ask:
// key-requests.ts): items this device lacks a key for are gathered and asked for in rounds from
// the readers' devices the server picks; forwarded keys settle an item, and devices asked for an
// item that opened meanwhile are told to forget it.

import { decodeBase64url } from "../e2ee/library.ts";
import { chunk, encodeKeyMessage, type ForwardedKey, MAX_ITEMS_PER_MESSAGE, planKeyRequests } from "./key-requests.ts";
import { deviceKey, type DeviceRef } from "./recipients.ts";
import { type ViewerList, Viewers } from "./viewers.ts";
import type { EngineState } from "./engine-state.ts";
import { ensureSessions, postToDevices } from "./engine-devices.ts";

/** Key holders the server picked for a channel are reused this long. */
const HOLDERS_CACHE_MS = 30_000;
/** Waiting items are gathered this long before one round of requests goes out. */
const KEY_FLUSH_DELAY_MS = 300;

/** The reader pressed Retry on a waiting message: ask every holder again now. */
export function retryKeyRequest(core: EngineState, channelId: string): void {
  core.forceChannel = channelId;
  scheduleKeyFlush(core, 0);
}

/** A reader of the channel came online (presence): they may hold keys we wait for; ask now. */
export function nudgeKeyRequests(core: EngineState, channelId: string): void {
  core.holders.delete(channelId);
  const pending = core.state.keyRequests ?? {};
  for (const p of Object.values(pending)) if (p.c === channelId) p.next = 0;
  scheduleKeyFlush(core);
}
/** A forwarded key opened its item: keep it (archive → key backup), drop the rest. */
export function acceptForwarded(core: EngineState, id: string, fk: ForwardedKey, from: string): void {
  core.archive.rememberMessageKey(id, decodeBase64url(fk[1]));
  if (fk[2] && fk[3]) core.state.ads[id] = { ad: fk[2], entry: fk[3] };
  delete core.state.forwarded![id];
  core.count("keysAccepted");
  settleRequest(core, id, from);
}

/** An item opened: stop waiting; devices asked for it that did not answer are told to forget it. */
export function settleRequest(core: EngineState, id: string, answeredBy: string | null): void {
  const p = core.state.keyRequests?.[id];
  if (!p) return;
  delete core.state.keyRequests![id];
  for (const key of Object.keys(p.asked)) {
    if (key === answeredBy) continue;
    const [userId, deviceId] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
    const c = core.cancels.get(key) ?? { ref: { userId, deviceId }, c: p.c, i: new Set<string>() };
    if (c.c === p.c) c.i.add(id);
    core.cancels.set(key, c);
  }
  if (core.cancels.size) scheduleKeyFlush(core);
}
export function scheduleKeyFlush(core: EngineState, delay = KEY_FLUSH_DELAY_MS): void {
  if (core.keyFlushTimer !== undefined) {
    if (delay > 0) return;
    clearTimeout(core.keyFlushTimer);
  }
  core.keyFlushTimer = setTimeout(() => {
    core.keyFlushTimer = undefined;
    void core.run(() => flushKeyRequests(core)).catch(() => {});
  }, delay);
}

/** Readers of a channel: the page's list, else fetched (bookmarks show messages of other channels). */
async function readersOf(core: EngineState, channelId: string): Promise<ViewerList | null> {
  const known = core.contexts.get(channelId);
  if (known) return known;
  const list = await new Viewers(channelId, core.api).current().catch(() => null);
  if (list) core.contexts.set(channelId, list);
  return list;
}

/** Other readers' devices the server picked to ask, and who of them is online (cached HOLDERS_CACHE_MS). */
async function holdersOf(core: EngineState, channelId: string): Promise<{ refs: DeviceRef[]; online: Set<string> }> {
  const cached = core.holders.get(channelId);
  if (cached && Date.now() - cached.at < HOLDERS_CACHE_MS) return cached;
  const answer = await core.api.call<{ devices: { user_id: string; device_id: string; online: boolean }[] }>("GET", `/api/channels/${channelId}/key-holders`).catch(() => ({ devices: [] }));
  const holders = { at: Date.now(), refs: answer.devices.map((d) => ({ userId: d.user_id, deviceId: d.device_id })), online: new Set(answer.devices.filter((d) => d.online).map((d) => d.user_id)) };
  core.holders.set(channelId, holders);
  return holders;
}

/** One round of key requests for the waiting items that are due, and pending cancellations. */
async function flushKeyRequests(core: EngineState): Promise<void> {
  const force = core.forceChannel;
  core.forceChannel = null;
  const pending = core.state.keyRequests ?? {};
  const now = Date.now();
  const self = { userId: core.userId, deviceId: core.device.deviceId };
  const out: { ref: DeviceRef; bytes: Uint8Array }[] = [];
  const channels = new Set(Object.values(pending).filter((p) => !p.refused && (p.c === force || now >= p.next)).map((p) => p.c));
  for (const c of channels) {
    const readers = await readersOf(core, c);
    if (!readers) continue;
    const own = (readers.devicesByUser.get(core.userId) ?? []).filter((d) => d !== core.device.deviceId).map((deviceId) => ({ userId: core.userId, deviceId }));
    const holders = await holdersOf(core, c);
    const plan = planKeyRequests(pending, c, self, { readers: readers.devicesByUser, own, holders: holders.refs, online: holders.online }, now, c === force);
    for (const { ref, items } of plan.values()) {
      for (const i of chunk(items, MAX_ITEMS_PER_MESSAGE)) {
        out.push({ ref, bytes: encodeKeyMessage({ t: "kr", c, i }) });
        core.count("keyRequestsSent");
        core.count("keyRequestItems", i.length);
      }
    }
  }
  // Candidates for items no longer waited for (pruned, or opened some other way) go.
  for (const id of Object.keys(core.state.forwarded ?? {})) if (!pending[id]) delete core.state.forwarded![id];
  for (const x of core.cancels.values()) for (const i of chunk([...x.i], MAX_ITEMS_PER_MESSAGE)) out.push({ ref: x.ref, bytes: encodeKeyMessage({ t: "kc", c: x.c, i }) });
  core.cancels.clear();
  if (out.length) {
    const ready = new Set((await ensureSessions(core, out.map((o) => o.ref), true)).map(deviceKey));
    await postToDevices(core, out.filter((o) => ready.has(deviceKey(o.ref)))).catch(() => undefined);
  }
  await core.save();
}
