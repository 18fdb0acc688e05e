/**
 * Which devices a key request should go to besides the sender's (issue 11 §2–3): the server picks
 * a few devices of OTHER readers of the channel that are likely to hold the keys, online ones
 * first. It knows who is online (presence; invisible users count as offline, as everywhere) and
 * who wrote recently; it never knows who holds which key. When nobody else is online it names the
 * most recent writers' devices: the request waits in their to-device queue and is answered when
 * one of them comes online (docs/crypto.md "Shared history").
 */
import type { AppDeps } from "../../deps.ts";
import { accessChannel, type ActorRef } from "../permissions/index.ts";
import { listChannelViewers } from "../channels/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { presenceOf } from "../presence/index.ts";

/** Readers asked per request (each with all their devices, at most MAX_HOLDER_DEVICES in all). */
export const MAX_HOLDER_USERS = 3;
export const MAX_HOLDER_DEVICES = 6;
/** Readers whose presence is looked up per call (a random sample in a large channel). */
export const HOLDER_PRESENCE_SAMPLE = 200;

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export type KeyHolder = { user_id: string; device_id: string; online: boolean };

export async function listKeyHolders(deps: AppDeps, actor: ActorRef, channelId: string): Promise<{ devices: KeyHolder[] }> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const { channel } = await accessChannel(db, actor, channelId, now);
  const others = (await listChannelViewers(db, channel, now)).map((v) => v.userId).filter((id) => id !== actor.userId);
  if (others.length === 0) return { devices: [] };
  // A different few each time (so one member is not asked for everyone's history), and in a
  // large channel only a sample's presence is looked up.
  const sample = shuffle([...others]).slice(0, HOLDER_PRESENCE_SAMPLE);
  const visible = (await presenceOf(deps)?.visible(sample)) ?? new Map<string, string>();
  const online = sample.filter((id) => (visible.get(id) ?? "offline") !== "offline");
  const chosen = online.slice(0, MAX_HOLDER_USERS);
  if (chosen.length < MAX_HOLDER_USERS) {
    const recent = await db
      .selectFrom("messages")
      .select("sender_id")
      .where("channel_id", "=", channel.id)
      .where("sender_id", "in", others)
      .groupBy("sender_id")
      .orderBy((eb) => eb.fn.max("created_at"), "desc")
      .limit(MAX_HOLDER_USERS * 2)
      .execute();
    for (const r of recent) if (r.sender_id && !chosen.includes(r.sender_id) && chosen.length < MAX_HOLDER_USERS) chosen.push(r.sender_id);
  }
  if (chosen.length === 0) return { devices: [] };
  const devices = await db.selectFrom("key_devices").select(["user_id", "device_id"]).where("user_id", "in", chosen).orderBy("created_at", "desc").execute();
  const out: KeyHolder[] = [];
  for (const userId of chosen) {
    for (const d of devices) if (d.user_id === userId && out.length < MAX_HOLDER_DEVICES) out.push({ user_id: userId, device_id: d.device_id, online: online.includes(userId) });
  }
  return { devices: out };
}
