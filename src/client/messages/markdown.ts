/**
 * Chat markdown -> a small syntax tree. Decrypted message text is attacker-controlled, so this
 * parser never produces HTML: it produces nodes that render-dom.ts turns into elements with
 * textContent and a fixed set of tags. Supported (what chat users expect, no more): paragraphs
 * and line breaks, **bold**, *italic* / _italic_, ~~strike~~, `inline code`, ``` fenced code
 * blocks ``` with an optional language, > quotes, - / * / 1. lists, autolinked and <angle>
 * http(s)/mailto URLs, [text](url) links, @mentions and :emoji: shortcodes. Everything else stays
 * literal text. Input is bounded (MAX_INPUT) and nesting is bounded (MAX_DEPTH).
 */
export type Inline =
  | { type: "text"; text: string }
  | { type: "bold" | "italic" | "strike"; children: Inline[] }
  | { type: "code"; text: string }
  | { type: "link"; href: string; children: Inline[] }
  | { type: "mention"; name: string }
  | { type: "emoji"; name: string; char: string }
  | { type: "break" };

export type Block =
  | { type: "paragraph"; children: Inline[] }
  | { type: "code_block"; language: string | null; text: string }
  | { type: "quote"; children: Block[] }
  | { type: "list"; ordered: boolean; items: Inline[][] };

/** Messages are ≤ 64 KiB of ciphertext; the plaintext we render is capped a little lower. */
export const MAX_INPUT = 40_000;
const MAX_DEPTH = 6;

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

export function parseMarkdown(input: string): Block[] {
  return parseBlocks(input.slice(0, MAX_INPUT).replace(/\r\n?/g, "\n").split("\n"), 0);
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) blocks.push({ type: "paragraph", children: parseInline(paragraph.join("\n"), depth) });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^```\s*([A-Za-z0-9_+-]{0,20})\s*$/.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !/^```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
      blocks.push({ type: "code_block", language: fence[1] || null, text: body.join("\n") });
      i = j; // skips the closing fence (or ends at EOF: an unclosed fence runs to the end)
      continue;
    }
    if (/^>\s?/.test(line) && depth < MAX_DEPTH) {
      flush();
      const quoted: string[] = [];
      let j = i;
      while (j < lines.length && /^>\s?/.test(lines[j]!)) quoted.push(lines[j++]!.replace(/^>\s?/, ""));
      blocks.push({ type: "quote", children: parseBlocks(quoted, depth + 1) });
      i = j - 1;
      continue;
    }
    const bullet = /^\s*([-*]|\d{1,9}\.)\s+(.*)$/.exec(line);
    if (bullet) {
      flush();
      const ordered = /\d/.test(bullet[1]!);
      const items: Inline[][] = [];
      let j = i;
      for (; j < lines.length; j++) {
        const m = /^\s*([-*]|\d{1,9}\.)\s+(.*)$/.exec(lines[j]!);
        if (!m || /\d/.test(m[1]!) !== ordered) break;
        items.push(parseInline(m[2]!, depth));
      }
      blocks.push({ type: "list", ordered, items });
      i = j - 1;
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line);
  }
  flush();
  return blocks;
}

const URL_RE = /^(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]|mailto:[^\s<>"']+)/i;

function parseInline(text: string, depth: number): Inline[] {
  const out: Inline[] = [];
  let buffer = "";
  const pushText = () => {
    if (buffer) out.push({ type: "text", text: buffer });
    buffer = "";
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = text[i]!;
    if (ch === "\n") {
      pushText();
      out.push({ type: "break" });
      i++;
      continue;
    }
    if (ch === "\\" && i + 1 < text.length && /[\\`*_~[\]()@:>#-]/.test(text[i + 1]!)) {
      buffer += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1) {
        pushText();
        out.push({ type: "code", text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    const emphasis = depth < MAX_DEPTH ? matchDelimited(rest, i > 0 && /[\p{L}\p{N}]/u.test(text[i - 1]!)) : null;
    if (emphasis) {
      pushText();
      out.push({ type: emphasis.type, children: parseInline(emphasis.inner, depth + 1) });
      i += emphasis.length;
      continue;
    }
    const link = /^\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)/.exec(rest);
    if (link) {
      const href = safeHref(link[2]!);
      if (href && depth < MAX_DEPTH) {
        pushText();
        out.push({ type: "link", href, children: parseInline(link[1]!, depth + 1) });
        i += link[0].length;
        continue;
      }
    }
    const angle = /^<((?:https?:\/\/|mailto:)[^\s<>]{1,2000})>/i.exec(rest);
    if (angle && safeHref(angle[1]!)) {
      pushText();
      out.push({ type: "link", href: safeHref(angle[1]!)!, children: [{ type: "text", text: angle[1]! }] });
      i += angle[0].length;
      continue;
    }
    const prevIsWord = i > 0 && /[\p{L}\p{N}_]/u.test(text[i - 1]!);
    const url = !prevIsWord ? URL_RE.exec(rest) : null;
    if (url && safeHref(url[1]!)) {
      pushText();
      out.push({ type: "link", href: safeHref(url[1]!)!, children: [{ type: "text", text: url[1]! }] });
      i += url[1]!.length;
      continue;
    }
    const mention = !prevIsWord ? /^@([A-Za-z0-9][A-Za-z0-9_.-]{1,31})/.exec(rest) : null;
    if (mention) {
      pushText();
      const name = mention[1]!.replace(/[.]+$/, "");
      out.push({ type: "mention", name });
      i += 1 + name.length;
      continue;
    }
    const emoji = /^:([a-z0-9_+-]{1,32}):/.exec(rest);
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

/** Underscores inside words (snake_case) never open or close emphasis, as in CommonMark. */
function matchDelimited(rest: string, afterWordChar: boolean): { type: "bold" | "italic" | "strike"; inner: string; length: number } | null {
  for (const [delim, type] of [["**", "bold"], ["__", "bold"], ["~~", "strike"], ["*", "italic"], ["_", "italic"]] as const) {
    if (!rest.startsWith(delim)) continue;
    if (delim[0] === "_" && afterWordChar) continue;
    const after = rest[delim.length];
    if (!after || /\s/.test(after)) continue;
    let end = rest.indexOf(delim, delim.length + 1);
    while (end !== -1 && delim[0] === "_" && /[\p{L}\p{N}]/u.test(rest[end + delim.length] ?? "")) end = rest.indexOf(delim, end + 1);
    if (end === -1) continue;
    const inner = rest.slice(delim.length, end);
    if (/\s$/.test(inner) || inner.includes("\n\n")) continue;
    return { type, inner, length: end + delim.length };
  }
  return null;
}

/** Plain text of a tree (notification previews, copy-as-text, search in decrypted history). */
export function toPlainText(blocks: Block[]): string {
  const inline = (nodes: Inline[]): string =>
    nodes.map((n) => (n.type === "text" || n.type === "code" ? n.text : n.type === "break" ? "\n" : n.type === "mention" ? `@${n.name}` : n.type === "emoji" ? n.char : inline(n.children))).join("");
  return blocks
    .map((b) => (b.type === "paragraph" ? inline(b.children) : b.type === "code_block" ? b.text : b.type === "quote" ? toPlainText(b.children) : b.items.map(inline).join("\n")))
    .join("\n");
}
