/**
 * The quick switcher's list (Ctrl/Cmd+K on every signed-in page; src/client/switcher.ts) and the
 * forward dialog's targets: the communities the user belongs to, the channels of each that the
 * user may see (the sidebar's rule, visibleGroupsFor: private channels without access are left
 * out), the user's DMs and group DMs, and the people of those DMs. Nothing the user cannot already
 * reach from the sidebar; people beyond the DMs come from GET /api/users/search as they type.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { authGuard } from "../auth/index.ts";
import { dbOf, listCommunitiesOf, nowOf, type ActorLike } from "../communities/index.ts";
import { visibleGroupsFor } from "../channels/index.ts";
import { listDms } from "../dms/index.ts";

/** Per user: a burst of 10, then one every 3 s (the list is fetched once per page, when opened). */
export const SWITCHER_RATE: Limit = { ratePerSec: 1 / 3, burst: 10 };
/** Communities listed with their channels (the rest are listed without channels). */
export const MAX_SWITCHER_COMMUNITIES = 50;

export type SwitcherList = {
  communities: { id: string; name: string }[];
  channels: { id: string; name: string; kind: string; community_id: string; community_name: string; can_send: boolean }[];
  dms: { channel_id: string; kind: "dm" | "group_dm"; name: string; can_send: boolean }[];
  people: { id: string; username: string; display_name: string; dm_channel_id: string | null }[];
};

export async function listSwitcher(deps: AppDeps, actor: ActorLike): Promise<SwitcherList> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const communities = await listCommunitiesOf(db, actor.userId);
  const channels: SwitcherList["channels"] = [];
  for (const c of communities.slice(0, MAX_SWITCHER_COMMUNITIES)) {
    const groups = await visibleGroupsFor(db, actor, c.id, now).catch(() => []);
    for (const g of groups) for (const ch of g.channels) channels.push({ id: ch.id, name: ch.name ?? "", kind: ch.kind, community_id: c.id, community_name: c.name, can_send: ch.canSend && !ch.archived && ch.kind !== "voice" });
  }
  const dms = await listDms(deps, actor);
  const people = new Map<string, SwitcherList["people"][number]>();
  for (const d of dms) {
    for (const p of d.participants) {
      if (p.id === actor.userId) continue;
      const known = people.get(p.id);
      if (!known || (d.kind === "dm" && known.dm_channel_id === null)) people.set(p.id, { id: p.id, username: p.username, display_name: p.displayName, dm_channel_id: d.kind === "dm" ? d.channelId : (known?.dm_channel_id ?? null) });
    }
  }
  return {
    communities: communities.map((c) => ({ id: c.id, name: c.name })),
    channels,
    dms: dms.map((d) => ({ channel_id: d.channelId, kind: d.kind, name: d.participants.filter((p) => p.id !== actor.userId).map((p) => p.displayName).join(", ") || "Only you", can_send: true })),
    people: [...people.values()],
  };
}

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

export function switcherRoutes(deps: AppDeps) {
  return new Elysia({ name: "switcher" })
    .use(authGuard(deps))
    .get("/api/switcher", async ({ actor }) => {
      const taken = await rateStoreOf(deps).take(`switcher:${actor.userId}`, SWITCHER_RATE, nowOf(deps).getTime());
      if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "The switcher was opened too often. Try again shortly.");
      return listSwitcher(deps, actor);
    }, { auth: true, detail: { summary: "Communities, channels, DMs and people the user can reach (quick switcher, forward targets)", tags: ["home"] } });
}
