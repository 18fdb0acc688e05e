// The keyed inverted index (docs/search.md, docs/decisions/0011): in memory while the page is
// open, at rest as encrypted segments of up to SEGMENT documents. A segment holds its documents
// (id, channel, author, time, has-file, text) and its postings filed under word keys —
// HMAC(per-user secret, word) — never the words. Loading merges the segments' postings without
// re-reading any text; a word typed into search is keyed the same way and looked up.

import { type Query, tokenise } from "./query.ts";

export const SEGMENT = 500;
export const MAX_TEXT = 4000;

export interface Doc {
  /** message id */
  i: string;
  /** channel id */
  c: string;
  /** author id and name */
  s: string;
  n: string;
  /** sent at, epoch ms */
  t: number;
  /** 1: has files */
  f: 0 | 1;
  x: string;
}

/** Where segments are kept and how words become keys (vault.ts in the browser; a map in tests). */
export interface IndexStore {
  wordKey(word: string): Promise<string>;
  put(name: string, value: unknown): Promise<void>;
  delete(name: string): Promise<void>;
  each<T>(prefix: string): AsyncGenerator<[string, T]>;
}

type SegmentRecord = { d: Doc[]; p: Record<string, number[]> };

const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

export class LocalIndex {
  private readonly docs: Array<Doc | null> = [];
  private readonly segOf: number[] = [];
  private readonly byId = new Map<string, number>();
  private readonly postings = new Map<string, number[]>();
  /** Live documents per segment. */
  private readonly segments = new Map<number, Set<number>>();
  private readonly dirty = new Set<number>();
  private readonly keys = new Map<string, string>();
  private active = 0;
  private live = 0;

  constructor(private readonly store: IndexStore) {}

  get size(): number {
    return this.live;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Loads every stored segment, yielding between them. */
  async load(): Promise<void> {
    let slice = performance.now();
    for await (const [name, seg] of this.store.each<SegmentRecord>("seg:")) {
      const id = Number(name.slice(4));
      const ords = seg.d.map((doc) => this.push(doc, id));
      for (const [key, list] of Object.entries(seg.p)) {
        let target = this.postings.get(key);
        if (!target) this.postings.set(key, (target = []));
        for (const local of list) target.push(ords[local]!);
      }
      this.active = Math.max(this.active, id);
      if (performance.now() - slice > 20) (await yieldNow(), (slice = performance.now()));
    }
    if ((this.segments.get(this.active)?.size ?? 0) >= SEGMENT) this.active++;
  }

  private push(doc: Doc, seg: number): number {
    const ord = this.docs.length;
    this.docs.push(doc);
    this.segOf.push(seg);
    this.byId.set(doc.i, ord);
    let set = this.segments.get(seg);
    if (!set) this.segments.set(seg, (set = new Set()));
    set.add(ord);
    this.live++;
    return ord;
  }

  /** The word keys of a text (cached: the plaintext words stay in this page's memory only). */
  async keysOf(words: string[]): Promise<string[]> {
    return Promise.all(
      words.map(async (w) => {
        let k = this.keys.get(w);
        if (k === undefined) {
          k = await this.store.wordKey(w);
          if (this.keys.size > 200_000) this.keys.clear();
          this.keys.set(w, k);
        }
        return k;
      }),
    );
  }

  /** Adds documents, replacing any of the same id whose text or files changed (an edit). */
  async add(docs: Doc[]): Promise<number> {
    let added = 0;
    for (const raw of docs) {
      const doc = { ...raw, x: raw.x.slice(0, MAX_TEXT) };
      const old = this.byId.get(doc.i);
      if (old !== undefined) {
        const was = this.docs[old]!;
        if (was.x === doc.x && was.f === doc.f) continue;
        this.drop(old);
      }
      const keys = await this.keysOf(tokenise(doc.x));
      if ((this.segments.get(this.active)?.size ?? 0) >= SEGMENT) this.active++;
      const ord = this.push(doc, this.active);
      for (const k of keys) {
        let list = this.postings.get(k);
        if (!list) this.postings.set(k, (list = []));
        list.push(ord);
      }
      this.dirty.add(this.active);
      added++;
    }
    return added;
  }

  private drop(ord: number): void {
    const doc = this.docs[ord];
    if (!doc) return;
    this.docs[ord] = null;
    this.byId.delete(doc.i);
    this.segments.get(this.segOf[ord]!)?.delete(ord);
    this.dirty.add(this.segOf[ord]!);
    this.live--;
  }

  /** A deleted message. */
  remove(id: string): boolean {
    const ord = this.byId.get(id);
    if (ord === undefined) return false;
    this.drop(ord);
    return true;
  }

  /** Every entry of channels the user can no longer read. */
  removeChannels(channelIds: Iterable<string>): number {
    const gone = new Set(channelIds);
    let n = 0;
    for (let ord = 0; ord < this.docs.length; ord++) {
      const doc = this.docs[ord];
      if (doc && gone.has(doc.c)) (this.drop(ord), n++);
    }
    return n;
  }

  /** Writes the changed segments (each re-encrypted whole; an emptied one is deleted). */
  async flush(): Promise<void> {
    for (const seg of [...this.dirty]) {
      this.dirty.delete(seg);
      const ords = [...(this.segments.get(seg) ?? [])];
      if (!ords.length) {
        this.segments.delete(seg);
        await this.store.delete(`seg:${seg}`);
        continue;
      }
      const record: SegmentRecord = { d: [], p: {} };
      for (const ord of ords) {
        const doc = this.docs[ord]!;
        const local = record.d.push(doc) - 1;
        for (const k of await this.keysOf(tokenise(doc.x))) (record.p[k] ??= []).push(local);
      }
      await this.store.put(`seg:${seg}`, record);
    }
  }

  /**
   * Documents matching every word and filter, newest first (at most `limit`), and how many
   * matched. `channels`: the channel ids `in:` names (null: any).
   */
  async search(q: Query, opts: { channels: Set<string> | null; limit?: number }): Promise<{ hits: Doc[]; total: number; keys: string[] }> {
    const keys = await this.keysOf(q.terms);
    return { ...this.match(q, keys, opts), keys };
  }

  match(q: Query, keys: string[], opts: { channels: Set<string> | null; limit?: number }): { hits: Doc[]; total: number } {
    let candidates: Iterable<number>;
    if (keys.length) {
      const lists = keys.map((k) => this.postings.get(k) ?? []).sort((a, b) => a.length - b.length);
      if (!lists[0]!.length) return { hits: [], total: 0 };
      let set = new Set(lists[0]);
      for (const list of lists.slice(1)) {
        const next = new Set<number>();
        for (const ord of list) if (set.has(ord)) next.add(ord);
        set = next;
      }
      candidates = set;
    } else candidates = this.docs.keys();
    const hits: Doc[] = [];
    for (const ord of candidates) {
      const d = this.docs[ord];
      if (!d) continue;
      if (opts.channels && !opts.channels.has(d.c)) continue;
      if (q.hasFile && !d.f) continue;
      if (q.before !== undefined && d.t >= q.before) continue;
      if (q.after !== undefined && d.t < q.after) continue;
      if (q.from.length) {
        const n = d.n.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
        if (!q.from.some((f) => n.startsWith(f) || d.s === f)) continue;
      }
      hits.push(d);
    }
    hits.sort((a, b) => b.t - a.t);
    return { hits: hits.slice(0, opts.limit ?? 50), total: hits.length };
  }

  /** Entries per channel (the "what was searched" line). */
  countByChannel(): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of this.docs) if (d) out.set(d.c, (out.get(d.c) ?? 0) + 1);
    return out;
  }
}
