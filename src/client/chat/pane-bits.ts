// Two small parts of the message pane: its scroll geometry (the pane may be column-reverse) and
// the "… is typing" line.

const TYPING_SHOWN_MS = 10_000;
const NEAR_BOTTOM_PX = 120;

export class ScrollGeometry {
  constructor(private readonly scroller: HTMLElement) {}

  /** .pane-body is flex column-reverse (pinned to the newest message): scrollTop is 0 at the bottom. */
  reversed(): boolean {
    return getComputedStyle(this.scroller).flexDirection === "column-reverse";
  }

  fromBottom(): number {
    const s = this.scroller;
    return this.reversed() ? Math.abs(s.scrollTop) : s.scrollHeight - s.scrollTop - s.clientHeight;
  }

  fromTop(): number {
    const s = this.scroller;
    return s.scrollHeight - s.clientHeight - this.fromBottom();
  }

  nearBottom(): boolean {
    return this.fromBottom() < NEAR_BOTTOM_PX;
  }

  toBottom(): void {
    this.scroller.scrollTop = this.reversed() ? 0 : this.scroller.scrollHeight;
  }
}

export class TypingLine {
  private readonly typers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly el: HTMLElement,
    private readonly nameOf: (userId: string) => string,
  ) {}

  onTyping(userId: string, stopped: boolean): void {
    clearTimeout(this.typers.get(userId));
    if (stopped) this.typers.delete(userId);
    else this.typers.set(userId, setTimeout(() => {
      this.typers.delete(userId);
      this.render();
    }, TYPING_SHOWN_MS));
    this.render();
  }

  clear(): void {
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
  }

  private render(): void {
    const names = [...this.typers.keys()].map(this.nameOf);
    this.el.textContent = names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : names.length <= 3 ? `${names.join(", ")} are typing…` : "Several people are typing…";
  }
}
