// "Seen by …" under the last message of a DM or group DM: the other participants' read cursors,
// listed at start (GET /api/channels/{id}/read-receipts, so it survives a reload) and moved by
// read:receipt events. People who turned read receipts off are in neither.

import { callApi } from "./api.ts";

export class SeenBy {
  private readonly upTo = new Map<string, number>();

  constructor(
    private readonly channelId: string,
    private readonly selfId: string,
    private readonly el: HTMLElement,
    private readonly nameOf: (userId: string) => string,
  ) {}

  async load(): Promise<void> {
    const answer = await callApi<{ receipts: { user_id: string; seq: number }[] }>("GET", `/api/channels/${this.channelId}/read-receipts`).catch(() => null);
    for (const r of answer?.receipts ?? []) this.note(r.user_id, r.seq);
  }

  /** Records a cursor; true when it moved forward. */
  note(userId: string, seq: number): boolean {
    if (userId === this.selfId || seq <= (this.upTo.get(userId) ?? 0)) return false;
    this.upTo.set(userId, seq);
    return true;
  }

  render(lastSeq: number): void {
    const names = [...this.upTo].filter(([, seq]) => seq >= lastSeq).map(([id]) => this.nameOf(id));
    this.el.textContent = names.length === 0 ? "" : `Seen by ${names.join(", ")}`;
  }
}
