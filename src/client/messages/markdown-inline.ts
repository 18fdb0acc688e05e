/**
 * The inline half of the chat markdown parser (markdown.ts has the blocks): emphasis, code, links,
 * autolinks, mentions and emoji within one paragraph or list item.
 *
 * Linear time (docs/decisions/0003-markdown-parser.md): every search for a closing delimiter or a
 * stop character goes through a finder (below) that looks at each character at most once per
 * parsed string; a link destination is scanned and validated once per "(" (memoised), and only
 * one level of balanced parentheses is allowed in it, so destinations never nest deeper; a bare
 * URL's host is validated apart from its path, and a candidate that fails is never re-examined
 * from a later position. Each nesting level parses disjoint substrings, so a parse is
 * O(MAX_DEPTH · n). `work.steps` counts the characters looked at; the linear-time test
 * (test/client/messages/markdown-linear.test.ts) asserts it stays below c · n.
 */
import type { Inline } from "./markdown.ts";

export const MAX_DEPTH = 6;
const MAX_LINK_TEXT = 500;
const MAX_URL = 2000;

/** Characters looked at by the parser so far (instrumentation for the linear-time test and the bench). */
export const work = { steps: 0 };

const EMOJI: Record<string, string> = {
  smile: "😄", grin: "😁", joy: "😂", wink: "😉", heart: "❤️", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎",
  tada: "🎉", fire: "🔥", rocket: "🚀", eyes: "👀", thinking: "🤔", ok_hand: "👌", wave: "👋", clap: "👏", pray: "🙏",
  check: "✅", x: "❌", warning: "⚠️", lock: "🔒", key: "🔑", coffee: "☕", bug: "🐛", sparkles: "✨", "100": "💯", cry: "😢", sob: "😭",
};

/** Only these schemes ever become links; `javascript:`, `data:` and friends stay text. */
export function safeHref(raw: string): string | null {
  const trimmed = raw.trim();
  if (!/^(https?:\/\/|mailto:)/i.test(trimmed)) return null;
  try {
    const url = new URL(trimmed);
    if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "mailto:") return null;
    return url.href;
  } catch {
    return null;
  }
}

export const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);

/**
 * The first index ≥ `from` where `accept` holds (-1: none). Queries come with a `from` that never
 * decreases, so the answer of the last scan is reused until `from` passes it: each character is
 * looked at once per finder, however many openers ask for the same closer.
 */
function finder(text: string, accept: (i: number) => boolean): (from: number) => number {
  let lastFrom = -1;
  let hit = -1; // first accepting index ≥ lastFrom, text.length when none
  return (from) => {
    if (from < lastFrom || hit < from) {
      let i = from;
      while (i < text.length && !accept(i)) {
        i++;
        work.steps++;
      }
      lastFrom = from;
      hit = i;
    }
    return hit >= text.length ? -1 : hit;
  };
}

const DELIMITERS = [["**", "bold"], ["__", "bold"], ["~~", "strike"], ["*", "italic"], ["_", "italic"]] as const;
type Delimiter = (typeof DELIMITERS)[number][0];
const WORD = /[\p{L}\p{N}]/u;
const WORD_OR_UNDERSCORE = /[\p{L}\p{N}_]/u;
const SCHEME = /https?:\/\/|mailto:/iy;
const MENTION = /@([A-Za-z0-9][A-Za-z0-9_.-]{1,31})/y;
const EMOJI_CODE = /:([a-z0-9_+-]{1,32}):/y;
const TRAILING = new Set([".", ",", ";", ":", "!", "?", ")", "]"]);
const URL_STOP = new Set(["<", ">", '"', "'"]);

/** Length of the scheme (http://, https://, mailto:) at `i`, 0 when there is none. */
function schemeAt(text: string, i: number): number {
  SCHEME.lastIndex = i;
  work.steps += 8;
  return SCHEME.test(text) ? SCHEME.lastIndex - i : 0;
}

/** A sticky, length-bounded pattern at `i` (mentions, emoji): constant work per attempt. */
function stickyAt(re: RegExp, text: string, i: number): RegExpExecArray | null {
  re.lastIndex = i;
  work.steps += 34;
  return re.exec(text);
}

export function parseInline(text: string, depth: number): Inline[] {
  const out: Inline[] = [];
  let buffer = "";
  const pushText = () => {
    if (buffer) out.push({ type: "text", text: buffer });
    buffer = "";
  };
  const n = text.length;
  const isWordAt = (i: number) => i < n && WORD.test(text[i]!);
  const nextBacktick = finder(text, (i) => text[i] === "`");
  const closers: Record<Delimiter, (from: number) => number> = {
    "**": finder(text, (i) => text.startsWith("**", i)),
    __: finder(text, (i) => text.startsWith("__", i) && !isWordAt(i + 2)),
    "~~": finder(text, (i) => text.startsWith("~~", i)),
    "*": finder(text, (i) => text[i] === "*"),
    _: finder(text, (i) => text[i] === "_" && !isWordAt(i + 1)),
  };
  const nextLinkTextEnd = finder(text, (i) => text[i] === "]" || text[i] === "\n");
  const nextAngleStop = finder(text, (i) => text[i] === "<" || text[i] === ">" || isSpace(text[i]));
  const nextUrlStop = finder(text, (i) => URL_STOP.has(text[i]!) || isSpace(text[i]));
  const nextAuthorityEnd = finder(text, (i) => text[i] === "/" || text[i] === "?" || text[i] === "#" || text[i] === "\\");
  const destinations = new Map<number, { end: number; href: string | null }>();
  let urlRun = { end: -1, last: -1, floor: -1 };

  /** Emphasis opening at `i`: CommonMark-like flanking, the first closer wins (as before 0003). */
  const emphasisAt = (i: number): { type: "bold" | "italic" | "strike"; start: number; end: number; next: number } | null => {
    const afterWordChar = i > 0 && WORD.test(text[i - 1]!);
    for (const [delim, type] of DELIMITERS) {
      if (!text.startsWith(delim, i)) continue;
      if (delim[0] === "_" && afterWordChar) continue;
      const start = i + delim.length;
      if (start >= n || isSpace(text[start])) continue;
      const end = closers[delim](start + 1);
      if (end === -1) continue;
      if (isSpace(text[end - 1])) continue;
      // (No blank line can be inside: parseBlocks ends a paragraph at one.)
      return { type, start, end, next: end + delim.length };
    }
    return null;
  };

  /** `[text](destination)`: text of 1–500 characters without ] or a newline; the destination ≤ 2000 characters without spaces, parentheses only balanced one deep. */
  const linkAt = (i: number): { textEnd: number; href: string | null; next: number } | null => {
    const textEnd = nextLinkTextEnd(i + 1);
    if (textEnd === -1 || text[textEnd] !== "]" || textEnd - i - 1 < 1 || textEnd - i - 1 > MAX_LINK_TEXT || text[textEnd + 1] !== "(") return null;
    const open = textEnd + 1;
    let dest = destinations.get(open);
    if (!dest) {
      dest = { end: -1, href: null };
      let j = open + 1;
      let group = false;
      for (; j < n && j - open - 1 <= MAX_URL; j++) {
        work.steps++;
        const ch = text[j]!;
        if (isSpace(ch)) break;
        if (ch === "(") {
          if (group) break;
          group = true;
        } else if (ch === ")") {
          if (!group) {
            dest.end = j;
            break;
          }
          group = false;
        }
      }
      const length = dest.end - open - 1;
      if (length >= 1 && length <= MAX_URL && schemeAt(text, open + 1) > 0) {
        work.steps += length;
        dest.href = safeHref(text.slice(open + 1, dest.end));
      }
      destinations.set(open, dest);
    }
    return dest.end === -1 ? null : { textEnd, href: dest.href, next: dest.end + 1 };
  };

  /** A bare URL at `i`: the scheme, then up to a space, < > " or ', less trailing punctuation. */
  const autolinkAt = (i: number): number => {
    const scheme = schemeAt(text, i);
    if (!scheme) return -1;
    const from = i + scheme;
    const stop = nextUrlStop(from);
    const runEnd = stop === -1 ? n : stop;
    if (text[i] === "m" || text[i] === "M") return runEnd > from ? runEnd : -1; // mailto: takes the whole run
    // http(s): at least two characters, the last one not trailing punctuation. The backward scan
    // over a run's trailing punctuation is done once per run.
    if (urlRun.end !== runEnd || from + 1 < urlRun.floor) {
      let j = runEnd - 1;
      while (j >= from + 1 && TRAILING.has(text[j]!)) {
        j--;
        work.steps++;
      }
      urlRun = { end: runEnd, last: j, floor: from + 1 };
    }
    return urlRun.last >= from + 1 ? urlRun.last + 1 : -1;
  };

  /**
   * Whether the host part of the URL candidate [i, end) parses: the only part that can make an
   * http(s) URL invalid (the path is percent-encoded). Checked apart from the rest so that a bad
   * candidate costs its host, not its whole run. mailto: has no host and never fails.
   */
  const authorityIsValid = (i: number, scheme: number, end: number): boolean => {
    if (text[i] === "m" || text[i] === "M") return true;
    let from = i + scheme;
    while (from < end && (text[from] === "/" || text[from] === "\\")) {
      from++;
      work.steps++;
    }
    const stop = nextAuthorityEnd(from);
    const authorityEnd = stop === -1 || stop > end ? end : stop;
    work.steps += authorityEnd - i;
    return safeHref(text.slice(i, authorityEnd)) !== null;
  };

  let i = 0;
  while (i < n) {
    work.steps++;
    const ch = text[i]!;
    if (ch === "\n") {
      pushText();
      out.push({ type: "break" });
      i++;
      continue;
    }
    if (ch === "\\" && i + 1 < n && /[\\`*_~[\]()@:>#-]/.test(text[i + 1]!)) {
      buffer += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const end = nextBacktick(i + 1);
      if (end > i + 1) {
        pushText();
        out.push({ type: "code", text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    const emphasis = depth < MAX_DEPTH && (ch === "*" || ch === "_" || ch === "~") ? emphasisAt(i) : null;
    if (emphasis) {
      pushText();
      out.push({ type: emphasis.type, children: parseInline(text.slice(emphasis.start, emphasis.end), depth + 1) });
      i = emphasis.next;
      continue;
    }
    if (ch === "[" && depth < MAX_DEPTH) {
      const link = linkAt(i);
      if (link?.href) {
        pushText();
        out.push({ type: "link", href: link.href, children: parseInline(text.slice(i + 1, link.textEnd), depth + 1) });
        i = link.next;
        continue;
      }
    }
    const angleScheme = ch === "<" ? schemeAt(text, i + 1) : 0;
    if (angleScheme) {
      const from = i + 1 + angleScheme;
      const stop = nextAngleStop(from);
      if (stop !== -1 && text[stop] === ">" && stop - from >= 1 && stop - from <= MAX_URL) {
        work.steps += stop - i;
        const href = safeHref(text.slice(i + 1, stop));
        if (href) {
          pushText();
          out.push({ type: "link", href, children: [{ type: "text", text: text.slice(i + 1, stop) }] });
          i = stop + 1;
          continue;
        }
      }
    }
    const prevIsWord = i > 0 && WORD_OR_UNDERSCORE.test(text[i - 1]!);
    if (!prevIsWord && (ch === "h" || ch === "H" || ch === "m" || ch === "M")) {
      const end = autolinkAt(i);
      if (end !== -1) {
        const scheme = schemeAt(text, i);
        if (!authorityIsValid(i, scheme, end)) {
          // Only the scheme becomes text: a later URL in the same run is still found, and the
          // next candidate's authority starts after this one's, so each character is checked once.
          buffer += text.slice(i, i + scheme);
          i += scheme;
          continue;
        }
        work.steps += end - i;
        const url = text.slice(i, end);
        const href = safeHref(url);
        if (href) {
          pushText();
          out.push({ type: "link", href, children: [{ type: "text", text: url }] });
        } else buffer += url; // valid host but still no URL: text as a whole, never re-examined
        i = end;
        continue;
      }
    }
    const mention = !prevIsWord && ch === "@" ? stickyAt(MENTION, text, i) : null;
    if (mention) {
      pushText();
      const name = mention[1]!.replace(/[.]+$/, "");
      out.push({ type: "mention", name });
      i += 1 + name.length;
      continue;
    }
    const emoji = ch === ":" ? stickyAt(EMOJI_CODE, text, i) : null;
    if (emoji && EMOJI[emoji[1]!]) {
      pushText();
      out.push({ type: "emoji", name: emoji[1]!, char: EMOJI[emoji[1]!]! });
      i += emoji[0].length;
      continue;
    }
    buffer += ch;
    i++;
  }
  pushText();
  return out;
}
