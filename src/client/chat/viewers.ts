// Who can read the conversation on screen, as the server says now (issue 11 §1): every reader
// with their devices, the viewer-set version that list belongs to, the channel's history setting
// and when this user became a reader. Never a snapshot taken at mount: the list is marked stale
// by `viewers:changed` (and reconnects, and a send refused with VIEWERS_CHANGED) and fetched
// again before the next encryption. Sends carry `version`; the server refuses an older one.

import { pageApi, type Api } from "./api.ts";
import { selectRecipientDevices, type DeviceRef } from "./recipients.ts";

export type ViewerList = {
  version: number;
  history: "shared" | "joined";
  /** When this user became a reader (ms), or null. */
  since: number | null;
  devicesByUser: Map<string, string[]>;
  names: Map<string, string>;
};

type MembersAnswer = {
  viewer_version: number;
  history_visibility: "shared" | "joined";
  viewer_since: string | null;
  members: { user_id: string; display_name: string; nickname?: string | null; devices: string[] }[];
};

/** Extra fetches when the list changed while it was being fetched. */
const MAX_REFETCHES = 3;

export class Viewers {
  private list: ViewerList | null = null;
  private loading: Promise<ViewerList> | null = null;
  private stale = true;
  private readonly listeners = new Set<(list: ViewerList) => void>();

  constructor(
    readonly channelId: string,
    private readonly api: Api = pageApi,
  ) {}

  /** The last list fetched (possibly stale), for names and typing lines; null before the first. */
  get known(): ViewerList | null {
    return this.list;
  }

  /**
   * The current list: fetched again when stale (one request for concurrent callers). A list
   * invalidated while its request was in flight may predate the change (a new reader's device
   * registered meanwhile), so the load fetches again before anyone is handed it — otherwise the
   * caller that asked because of the change gets the old list and shares with nobody new.
   */
  current(): Promise<ViewerList> {
    if (!this.stale && this.list) return Promise.resolve(this.list);
    this.loading ??= this.fetchUntilFresh().finally(() => (this.loading = null));
    return this.loading;
  }

  private async fetchUntilFresh(): Promise<ViewerList> {
    let list = await this.fetch();
    // Bounded: a stream of changes must not keep a send waiting forever; the send path's
    // VIEWERS_CHANGED refusal still guarantees freshness after that.
    for (let i = 0; i < MAX_REFETCHES && this.stale; i++) list = await this.fetch();
    return list;
  }

  /** Something changed who can read (or we cannot know: a reconnect): fetch before the next use. */
  invalidate(): void {
    this.stale = true;
  }

  /** Called with each newly fetched list (index.ts shares the sender key with new devices). */
  onChange(fn: (list: ViewerList) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async fetch(): Promise<ViewerList> {
    // Marked fresh BEFORE the request: an invalidation arriving while it runs fetches again.
    this.stale = false;
    let answer: MembersAnswer;
    try {
      answer = await this.api.call<MembersAnswer>("GET", `/api/channels/${this.channelId}/members`);
    } catch (error) {
      this.stale = true;
      throw error;
    }
    const list: ViewerList = {
      version: answer.viewer_version,
      history: answer.history_visibility === "joined" ? "joined" : "shared",
      since: answer.viewer_since ? Date.parse(answer.viewer_since) : null,
      devicesByUser: new Map(answer.members.map((m) => [m.user_id, m.devices])),
      names: new Map(answer.members.map((m) => [m.user_id, m.nickname || m.display_name])),
    };
    this.list = list;
    for (const fn of this.listeners) fn(list);
    return list;
  }
}

/** Devices a message must be encrypted for: every reader's devices, the sender's others included. */
export function recipientsOf(list: ViewerList, self: DeviceRef): DeviceRef[] {
  return selectRecipientDevices(list.devicesByUser, [...list.devicesByUser.keys()], self);
}
