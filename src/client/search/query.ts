// Words and queries of the local search (docs/search.md). Pure: unit-tested under Bun.

/** Lower case, accents folded (é → e), compatibility forms unified (ﬁ → fi). */
export function normalise(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
}

/** The distinct words of a text: runs of letters and digits, 1–64 characters. */
export function tokenise(text: string): string[] {
  const out = new Set<string>();
  for (const m of normalise(text).matchAll(/[\p{L}\p{N}]+/gu)) if (m[0].length <= 64) out.add(m[0]);
  return [...out];
}

export interface Query {
  terms: string[];
  /** from:<name>: author names (normalised) that match by prefix. */
  from: string[];
  /** in:<channel>: channel names (normalised, without #). */
  in: string[];
  /** before:/after: as epoch ms bounds: t < before, t >= after. */
  before?: number;
  after?: number;
  hasFile: boolean;
}

/** A YYYY-MM-DD day in local time: its first instant, or null. */
function day(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getMonth() === Number(m[2]) - 1 && d.getDate() === Number(m[3]) ? d.getTime() : null;
}

/**
 * `from:ana in:#general before:2026-05-01 after:2026-04-01 has:file budget`: `after:` is from the
 * day after, `before:` until the day before (both exclusive, as in most chat apps). Throws a
 * message for the person on a filter it cannot read.
 */
export function parseQuery(text: string): Query {
  const q: Query = { terms: [], from: [], in: [], hasFile: false };
  const words: string[] = [];
  for (const part of text.trim().split(/\s+/)) {
    const m = /^(from|in|before|after|has):(.*)$/i.exec(part);
    if (!m) {
      words.push(part);
      continue;
    }
    const [, op, arg] = [m[0], m[1]!.toLowerCase(), m[2]!];
    if (!arg) throw new Error(`Add a value after ${op}: (for example ${op === "has" ? "has:file" : op === "from" ? "from:ana" : op === "in" ? "in:#general" : `${op}:2026-05-01`}).`);
    if (op === "from") q.from.push(normalise(arg.replace(/^@/, "")));
    else if (op === "in") q.in.push(normalise(arg.replace(/^#/, "")));
    else if (op === "has") {
      if (arg.toLowerCase() !== "file") throw new Error(`Only has:file is supported (not has:${arg}).`);
      q.hasFile = true;
    } else {
      const t = day(arg);
      if (t === null) throw new Error(`${op}: takes a date as YYYY-MM-DD (not "${arg}").`);
      if (op === "before") q.before = t;
      else q.after = t + 86_400_000;
    }
  }
  q.terms = tokenise(words.join(" "));
  return q;
}

export const isEmpty = (q: Query): boolean => !q.terms.length && !q.from.length && !q.in.length && q.before === undefined && q.after === undefined && !q.hasFile;
