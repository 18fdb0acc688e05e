/** The quick switcher's matching (src/client/live/switcher.ts): prefix, word start, substring, letters in order; names before details. */
import { describe, expect, test } from "bun:test";
import { matchScore, rank } from "../../src/client/live/switcher.ts";

describe("switcher matching", () => {
  test("prefix 0, word start 1, substring 2, letters in order 3, no match -1; # and @ are ignored", () => {
    expect(matchScore("#general", "gen")).toBe(0);
    expect(matchScore("Book club", "club")).toBe(1);
    expect(matchScore("Switchyard", "yard")).toBe(2);
    expect(matchScore("Switchyard", "swyd")).toBe(3);
    expect(matchScore("Alice", "switchy")).toBe(-1);
    expect(matchScore("@alice", "@ali")).toBe(0);
    expect(matchScore("anything", "")).toBe(0);
  });

  test("rank: better matches first, a name match before a detail match, order kept among equals, non-matches dropped", () => {
    const item = (label: string, detail: string) => ({ kind: "Channel" as const, label, detail, href: `/${label}` });
    const items = [item("Alice", "Direct message"), item("#general", "Switchyard"), item("Switchyard", "Community"), item("#switch-ops", "Other")];
    expect(rank(items, "switchy").map((i) => i.label)).toEqual(["Switchyard", "#general"]);
    expect(rank(items, "switch").map((i) => i.label)).toEqual(["Switchyard", "#switch-ops", "#general"]);
    expect(rank(items, "").map((i) => i.label)).toEqual(items.map((i) => i.label));
    expect(rank(items, "zzz")).toEqual([]);
  });
});
