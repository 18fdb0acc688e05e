// The page side of search-browser.ts (bundled by it for Chromium): the real search index
// (src/client/search: HMAC-keyed postings in AES-GCM segments in IndexedDB) against a plain
// unencrypted in-memory scan of the same messages, measured in the same page.
import { LocalIndex, type Doc } from "../../src/client/search/local-index.ts";
import { parseQuery, tokenise } from "../../src/client/search/query.ts";
import { Vault } from "../../src/client/search/vault.ts";

/** A seeded PRNG (mulberry32): the same corpus every run. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = 20_000;
const word = (i: number) => `w${i.toString(36)}x`;
/** Zipf-like: word i with weight 1/(i+1). */
function zipf(r: () => number): number {
  return Math.min(VOCAB - 1, Math.floor(Math.exp(r() * Math.log(VOCAB + 1)) - 1));
}

function corpus(n: number, from: number): Doc[] {
  const r = rng(42 + from);
  const docs: Doc[] = [];
  for (let i = from; i < from + n; i++) {
    const len = 4 + Math.floor(r() * 16);
    const words = Array.from({ length: len }, () => word(zipf(r)));
    docs.push({ i: `m${i}`, c: `c${i % 20}`, s: `u${i % 50}`, n: `User ${i % 50}`, t: 1_700_000_000_000 + i * 60_000, f: i % 17 === 0 ? 1 : 0, x: words.join(" ") });
  }
  return docs;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function storedBytes(name: string): Promise<number> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const values = await new Promise<Array<{ iv: Uint8Array; ct: ArrayBuffer }>>((resolve) => {
    const r = db.transaction("records").objectStore("records").getAll();
    r.onsuccess = () => resolve(r.result);
  });
  db.close();
  return values.reduce((n, v) => n + v.ct.byteLength + v.iv.byteLength, 0);
}

export async function run(sizes: number[], queries: number) {
  const out = [];
  for (const size of sizes) {
    const name = `bench-search-${size}-${Date.now()}`;
    const vault = await Vault.open(name);
    const index = new LocalIndex(vault);
    const plain: Array<{ d: Doc; words: string }> = [];
    let indexMs = 0;
    let textBytes = 0;
    for (let from = 0; from < size; from += 500) {
      const docs = corpus(Math.min(500, size - from), from);
      for (const d of docs) (plain.push({ d, words: ` ${tokenise(d.x).join(" ")} ` }), (textBytes += d.x.length));
      const t0 = performance.now();
      await index.add(docs);
      await index.flush();
      indexMs += performance.now() - t0;
    }
    const bytes = await storedBytes(name);
    // Reload: a fresh index from the stored segments (decrypt + merge).
    const t1 = performance.now();
    const reopened = new LocalIndex(await Vault.open(name));
    await reopened.load();
    const loadMs = performance.now() - t1;
    const r = rng(7);
    const texts = Array.from({ length: queries }, (_, i) => (i % 3 === 0 ? `${word(zipf(r))} ${word(zipf(r))}` : i % 3 === 1 ? word(zipf(r)) : `${word(Math.floor(r() * VOCAB))} in:c3`));
    const index_: number[] = [];
    const scan: number[] = [];
    let agree = 0;
    for (const text of texts) {
      const q = parseQuery(text);
      const channels = q.in.length ? new Set(q.in) : null;
      let t = performance.now();
      const got = await reopened.search(q, { channels });
      index_.push(performance.now() - t);
      // Baseline: every message's words scanned in memory, no keys, no encryption.
      t = performance.now();
      const hits = plain.filter((p) => (!channels || channels.has(p.d.c)) && q.terms.every((w) => p.words.includes(` ${w} `))).map((p) => p.d);
      hits.sort((a, b) => b.t - a.t);
      scan.push(performance.now() - t);
      if (hits.length === got.total) agree++;
    }
    out.push({ size, indexMs, docsPerSec: (size / indexMs) * 1000, bytesPer1000: (bytes / size) * 1000, textBytesPer1000: (textBytes / size) * 1000, loadMs, p50: pct(index_, 50), p99: pct(index_, 99), scanP50: pct(scan, 50), scanP99: pct(scan, 99), agree, queries });
    indexedDB.deleteDatabase(name);
  }
  return out;
}

(globalThis as unknown as { searchBench: typeof run }).searchBench = run;
