import { describe, expect, test } from "bun:test";
import { ChannelTimeline } from "../../../src/client/chat/timeline.ts";

const m = (seq: number, id = `id-${seq}`, client_id?: string) => ({ id, seq, client_id });

describe("ChannelTimeline: seq gaps and de-duplication", () => {
  test("in-order messages advance lastSeq without gaps", () => {
    const t = new ChannelTimeline();
    for (let i = 1; i <= 5; i++) expect(t.accept(m(i))).toEqual({ kind: "new", gapAfter: null });
    expect(t.lastSeq).toBe(5);
    expect(t.hasGap).toBe(false);
  });

  test("a jump in seq reports the gap to fetch (after_seq) and closes when the missing ones arrive", () => {
    const t = new ChannelTimeline(10);
    expect(t.accept(m(11))).toEqual({ kind: "new", gapAfter: null });
    expect(t.accept(m(14))).toEqual({ kind: "new", gapAfter: 11 });
    expect(t.lastSeq).toBe(11);
    expect(t.hasGap).toBe(true);
    expect(t.accept(m(12)).kind).toBe("new");
    expect(t.accept(m(13))).toEqual({ kind: "new", gapAfter: null });
    expect(t.lastSeq).toBe(14);
    expect(t.hasGap).toBe(false);
  });

  test("the same id twice (live + catch-up) is a duplicate", () => {
    const t = new ChannelTimeline();
    expect(t.accept(m(1)).kind).toBe("new");
    expect(t.accept(m(1)).kind).toBe("duplicate");
  });

  test("the same client id under another id is a duplicate too", () => {
    const t = new ChannelTimeline();
    expect(t.accept(m(1, "a", "c1")).kind).toBe("new");
    expect(t.accept(m(2, "b", "c1")).kind).toBe("duplicate");
    expect(t.lastSeq).toBe(2); // its seq still counts as held
  });

  test("50 messages delivered out of order and twice end up once each, lastSeq 50", () => {
    const t = new ChannelTimeline();
    const order = Array.from({ length: 50 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    let fresh = 0;
    for (const seq of [...order, ...order]) if (t.accept(m(seq)).kind === "new") fresh++;
    expect(fresh).toBe(50);
    expect(t.lastSeq).toBe(50);
  });

  test("older pages (before_seq) are recorded without gap reports and move oldestSeq", () => {
    const t = new ChannelTimeline();
    for (const seq of [98, 99, 100]) t.acceptOlder(m(seq));
    expect(t.oldestSeq).toBe(98);
    expect(t.acceptOlder(m(99))).toBe(false);
    for (let seq = 48; seq < 98; seq++) t.acceptOlder(m(seq));
    expect(t.oldestSeq).toBe(48);
  });

  test("the first page (the newest 50 of 10,000) starts lastSeq at its newest: a catch-up asks only for what came after, and the next live message is no gap", () => {
    const t = new ChannelTimeline();
    for (let seq = 9951; seq <= 10_000; seq++) t.acceptOlder(m(seq));
    expect(t.lastSeq).toBe(0); // older pages alone say nothing about what came before
    t.startAt(10_000);
    expect(t.lastSeq).toBe(10_000);
    expect(t.hasGap).toBe(false);
    expect(t.accept(m(10_001))).toEqual({ kind: "new", gapAfter: null });
    expect(t.accept(m(10_003))).toEqual({ kind: "new", gapAfter: 10_001 });
    t.startAt(5); // never moves back
    expect(t.lastSeq).toBe(10_001);
    const empty = new ChannelTimeline();
    empty.startAt(0);
    expect(empty.lastSeq).toBe(0);
  });

  test("a deletion event's seq counts as held", () => {
    const t = new ChannelTimeline(1);
    t.markSeen(2);
    expect(t.accept(m(3))).toEqual({ kind: "new", gapAfter: null });
  });
});
