// Background backfill of the search index (docs/search.md): every channel the user can read
// (GET /api/channels/unread), oldest first from where it stopped (`after_seq`, pages of 100, the
// order Sender Keys ratchet in), decrypted with keys this device holds (no key requests), in
// small slices that yield to the page. A channel that answers 404 is dropped with its entries.

import type { ChatMessage } from "../chat/types.ts";
import type { SearchHost } from "./types.ts";
import type { Doc, LocalIndex } from "./local-index.ts";

export type ChannelState = { name: string; url: string; community: string | null; hi: number; last: number };
export type State = { v: 1; channels: Record<string, ChannelState> };

const PAGE = 100;
/** Messages handed to the engine at once: a page (it yields inside; one state save per batch). */
const BATCH = 100;
const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function docOf(m: ChatMessage, text: string, files?: unknown[]): Doc {
  return { i: m.id, c: m.channel_id, s: m.sender_id, n: m.webhook?.username ?? m.sender_name ?? "", t: Date.parse(m.created_at), f: files?.length ? 1 : 0, x: text };
}

export class Backfill {
  running: Promise<void> | null = null;
  /** Set by the panel: called after each slice so the "what was searched" line follows. */
  onProgress: () => void = () => {};
  onIndexed: () => void = () => {};

  constructor(
    private readonly host: () => SearchHost,
    private readonly index: LocalIndex,
    readonly state: State,
    private readonly save: () => Promise<void>,
  ) {}

  private again = false;

  /** A pass over every channel; asked for during one, another follows it. */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) (this.again = false), void this.run().catch(() => {});
    });
    return this.running;
  }

  /** Channels no longer listed, or answering 404: their entries go. */
  async forget(ids: string[]): Promise<void> {
    const known = ids.filter((id) => this.state.channels[id]);
    if (!known.length) return;
    this.index.removeChannels(known);
    for (const id of known) delete this.state.channels[id];
    await this.index.flush();
    await this.save();
    this.onProgress();
  }

  private async pass(): Promise<void> {
    const host = this.host();
    const listed = await host.call<{ channels: Array<{ channel_id: string; community_id: string | null; last_seq: number }> }>("GET", "/api/channels/unread");
    const seen = new Set(listed.channels.map((c) => c.channel_id));
    await this.forget(Object.keys(this.state.channels).filter((id) => !seen.has(id)));
    let dmNames: Map<string, string> | null = null;
    for (const c of listed.channels) {
      let s = this.state.channels[c.channel_id];
      if (!s) {
        let name = "a conversation";
        if (c.community_id) name = `#${(await host.call<{ name: string }>("GET", `/api/channels/${c.channel_id}`).catch(() => ({ name: "channel" }))).name}`;
        else {
          dmNames ??= await this.dms(host);
          name = dmNames.get(c.channel_id) ?? "a direct message";
        }
        s = this.state.channels[c.channel_id] = { name, url: c.community_id ? `/c/${c.community_id}/ch/${c.channel_id}` : `/dms/${c.channel_id}`, community: c.community_id, hi: 0, last: 0 };
      }
      s.last = Math.max(s.last, c.last_seq);
    }
    await this.save();
    this.onProgress();
    // The conversation on screen first, then the rest.
    const order = Object.keys(this.state.channels).sort((a, b) => Number(b === host.channelId()) - Number(a === host.channelId()));
    for (const id of order) await this.channel(id);
  }

  private async dms(host: SearchHost): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const list = await host.call<{ dms: Array<{ channel_id: string; participants: Array<{ id: string; display_name: string | null; username: string }> }> }>("GET", "/api/dms").catch(() => ({ dms: [] }));
    for (const d of list.dms ?? []) out.set(d.channel_id, d.participants.filter((p) => p.id !== host.selfId).map((p) => p.display_name || p.username).join(", ") || "a direct message");
    return out;
  }

  private async channel(id: string): Promise<void> {
    const host = this.host();
    for (;;) {
      const s = this.state.channels[id];
      if (!s || s.hi >= s.last) return;
      let page: { messages: unknown[]; has_more: boolean };
      try {
        page = await host.call("GET", `/api/channels/${id}/messages?after_seq=${s.hi}&limit=${PAGE}`);
      } catch (error) {
        if ((error as { status?: number }).status === 404) return this.forget([id]);
        throw error;
      }
      const messages = page.messages.map(host.normalise).filter((m): m is ChatMessage => m !== null).sort((a, b) => a.seq - b.seq);
      for (let i = 0; i < messages.length; i += BATCH) {
        const batch = messages.slice(i, i + BATCH);
        const plain = await host.decrypt(batch.filter((m) => m.ciphertext));
        const docs: Doc[] = [];
        let k = 0;
        for (const m of batch) {
          if (!m.ciphertext) {
            this.index.remove(m.id);
            continue;
          }
          const p = plain[k++];
          if (p) docs.push(docOf(m, p.text, p.files));
        }
        await this.index.add(docs);
        await pause(0);
      }
      s.hi = messages.length ? messages[messages.length - 1]!.seq : s.last;
      if (!page.has_more) s.hi = Math.max(s.hi, s.last);
      await this.index.flush();
      await this.save();
      this.onIndexed();
      this.onProgress();
      await pause(30);
    }
  }
}
