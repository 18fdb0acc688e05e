// Per-channel bookkeeping for "nothing lost" (docs/messages.md): the highest seq we hold, gap
// detection, and de-duplication by server id and by client id (our own optimistic sends).
// Pure: no DOM, no network; unit-tested in test/client/chat/timeline.test.ts.

export type AcceptResult =
  /** Already shown (same id, or same client id of a message we sent from here). */
  | { kind: "duplicate" }
  /** New; `gapAfter` is set when seqs between our last one and this one are missing. */
  | { kind: "new"; gapAfter: number | null };

export class ChannelTimeline {
  private readonly ids = new Set<string>();
  private readonly clientIds = new Set<string>();
  /** Highest seq such that every seq ≤ it that we expect is held (what `after_seq` asks from). */
  private contiguous = 0;
  private readonly held = new Set<number>();
  private lowest = Infinity;

  /** `startSeq`: seq of the newest message already shown (0 for an empty channel). */
  constructor(startSeq = 0) {
    this.contiguous = startSeq;
  }

  get lastSeq(): number {
    return this.contiguous;
  }

  /** The oldest seq we hold (for `before_seq`), or null if none. */
  get oldestSeq(): number | null {
    return this.lowest === Infinity ? null : this.lowest;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /**
   * Records a message. Same id, or same client id under another id, is a duplicate. Our own send
   * is "new" the first time either its HTTP answer or its message:new echo arrives; the caller
   * then updates the pending row instead of adding one.
   */
  accept(message: { id: string; seq: number; client_id?: string }): AcceptResult {
    if (this.ids.has(message.id)) return { kind: "duplicate" };
    this.ids.add(message.id);
    if (message.client_id && this.clientIds.has(message.client_id)) {
      this.record(message.seq);
      return { kind: "duplicate" };
    }
    if (message.client_id) this.clientIds.add(message.client_id);
    const before = this.contiguous;
    this.record(message.seq);
    const gapAfter = message.seq > before + 1 && this.contiguous < message.seq ? before : null;
    return { kind: "new", gapAfter };
  }

  /**
   * The first page shown ends at `seq` (the newest messages, or a page around a search result):
   * everything up to it is history that older pages load, not a gap that a catch-up must fetch.
   * Without this a channel with more than one page of history had `lastSeq` 0 after opening, so
   * the first catch-up downloaded and decrypted its whole history from seq 1.
   */
  startAt(seq: number): void {
    if (seq <= this.contiguous) return;
    this.contiguous = seq;
    for (const held of this.held) if (held <= seq) this.held.delete(held);
    this.record(seq);
  }

  /** Older history loaded upward: recorded without gap checks. */
  acceptOlder(message: { id: string; seq: number; client_id?: string }): boolean {
    if (this.ids.has(message.id)) return false;
    this.ids.add(message.id);
    if (message.client_id) this.clientIds.add(message.client_id);
    this.lowest = Math.min(this.lowest, message.seq);
    if (message.seq > this.contiguous) this.record(message.seq);
    return true;
  }

  private record(seq: number): void {
    this.lowest = Math.min(this.lowest, seq);
    if (seq <= this.contiguous) return;
    this.held.add(seq);
    while (this.held.has(this.contiguous + 1)) {
      this.held.delete(this.contiguous + 1);
      this.contiguous++;
    }
  }

  /** True while some seq above `lastSeq` is held but an earlier one is missing. */
  get hasGap(): boolean {
    return this.held.size > 0;
  }

  /** Deleted messages keep their seq; a deletion event tells us the seq exists. */
  markSeen(seq: number): void {
    this.record(seq);
  }
}
