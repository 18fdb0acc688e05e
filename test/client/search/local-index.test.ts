// The search index's logic under Bun (the browser keeps it in IndexedDB: vault.ts, exercised by
// test/e2e/search.test.ts): query parsing, keyed postings, filters, removal, and that what is
// stored holds word keys, never words.
import { describe, expect, test } from "bun:test";
import { LocalIndex, SEGMENT, type Doc, type IndexStore } from "../../../src/client/search/local-index.ts";
import { isEmpty, parseQuery, tokenise } from "../../../src/client/search/query.ts";

/** A map store whose word keys come from a real HMAC with a random per-test secret. */
function memoryStore(): IndexStore & { records: Map<string, unknown> } {
  const records = new Map<string, unknown>();
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return {
    records,
    async wordKey(word) {
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(word)), 0, 9);
      return btoa(String.fromCharCode(...mac));
    },
    async put(name, value) {
      records.set(name, structuredClone(value));
    },
    async delete(name) {
      records.delete(name);
    },
    async *each<T>(prefix: string) {
      for (const [k, v] of [...records].sort()) if (k.startsWith(prefix)) yield [k, structuredClone(v) as T] as [string, T];
    },
  };
}

const doc = (i: number, x: string, extra: Partial<Doc> = {}): Doc => ({ i: `m${i}`, c: "general", s: "u1", n: "Ana Lima", t: new Date(2026, 4, 1 + (i % 20), 12).getTime(), f: 0, x, ...extra });

describe("query", () => {
  test("words are folded (case, accents) and filters parsed", () => {
    expect(tokenise("Café, CAFÉ and naïve-ﬁle 42")).toEqual(["cafe", "and", "naive", "file", "42"]);
    const q = parseQuery("Budget from:@Ana in:#General after:2026-04-01 before:2026-05-01 has:file");
    expect(q).toMatchObject({ terms: ["budget"], from: ["ana"], in: ["general"], hasFile: true });
    expect(q.after! - new Date(2026, 3, 2).getTime()).toBe(0);
    expect(q.before).toBe(new Date(2026, 4, 1).getTime());
    expect(isEmpty(parseQuery("   "))).toBe(true);
    expect(() => parseQuery("before:yesterday")).toThrow("YYYY-MM-DD");
    expect(() => parseQuery("has:link")).toThrow("has:file");
    expect(() => parseQuery("from:")).toThrow("from:ana");
  });
});

describe("LocalIndex", () => {
  test("finds by every word and filter, newest first; stored segments hold no words", async () => {
    const store = memoryStore();
    const index = new LocalIndex(store);
    await index.add([doc(1, "The quarterly budget is due"), doc(2, "budget meeting moved", { c: "random", n: "Bo" }), doc(3, "lunch?", { f: 1 }), doc(4, "BUDGET review", { f: 1 })]);
    await index.flush();
    const ids = async (text: string, channels: Set<string> | null = null) => (await index.search(parseQuery(text), { channels })).hits.map((d) => d.i);
    expect(await ids("budget")).toEqual(["m4", "m2", "m1"]);
    expect(await ids("budget due")).toEqual(["m1"]);
    expect(await ids("budget", new Set(["general"]))).toEqual(["m4", "m1"]);
    expect(await ids("budget from:bo")).toEqual(["m2"]);
    expect(await ids("has:file")).toEqual(["m4", "m3"]);
    expect(await ids("budget before:2026-05-04")).toEqual(["m2", "m1"]);
    expect(await ids("budget after:2026-05-02")).toEqual(["m4", "m2"]);
    expect(await ids("nothing")).toEqual([]);
    const stored = JSON.stringify([...store.records.values()]);
    // The texts are in the segment (encrypted by vault.ts in the browser); the postings are keyed.
    const postings = JSON.stringify([...store.records.values()].map((r) => (r as { p: unknown }).p));
    for (const word of ["budget", "quarterly", "lunch", "meeting"]) expect(postings.includes(word)).toBe(false);
    expect(stored).toContain("quarterly");
  });

  test("reload from stored segments, edits replace, deletions and lost channels drop entries", async () => {
    const store = memoryStore();
    const first = new LocalIndex(store);
    await first.add(Array.from({ length: SEGMENT + 10 }, (_, i) => doc(i, `word${i % 7} common`, { c: i % 2 ? "a" : "b" })));
    await first.flush();
    expect([...store.records.keys()].sort()).toEqual(["seg:0", "seg:1"]);
    const index = new LocalIndex(store);
    await index.load();
    expect(index.size).toBe(SEGMENT + 10);
    expect((await index.search(parseQuery("common"), { channels: null })).total).toBe(SEGMENT + 10);
    await index.add([doc(3, "edited text")]);
    expect((await index.search(parseQuery("word3"), { channels: null })).hits.map((d) => d.i)).not.toContain("m3");
    expect((await index.search(parseQuery("edited"), { channels: null })).hits.map((d) => d.i)).toEqual(["m3"]);
    expect(index.remove("m5")).toBe(true);
    expect(index.removeChannels(["a"])).toBe(Math.floor((SEGMENT + 10) / 2) - (5 % 2 ? 1 : 0) - (3 % 2 ? 1 : 0));
    await index.flush();
    const again = new LocalIndex(store);
    await again.load();
    const left = await again.search(parseQuery("common"), { channels: null });
    expect(left.hits.every((d) => d.c === "b")).toBe(true);
    expect(again.size).toBe(index.size);
  });
});
