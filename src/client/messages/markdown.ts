/**
 * Chat markdown -> a small syntax tree. Decrypted message text is attacker-controlled, so this
 * parser never produces HTML: it produces nodes that render-dom.ts turns into elements with
 * textContent and a fixed set of tags. Supported (what chat users expect, no more): paragraphs
 * and line breaks, **bold**, *italic* / _italic_, ~~strike~~, `inline code`, ``` fenced code
 * blocks ``` with an optional language, > quotes, - / * / 1. lists, autolinked and <angle>
 * http(s)/mailto URLs, [text](url) links, @mentions and :emoji: shortcodes. Everything else stays
 * literal text. Input is bounded (MAX_INPUT) and nesting is bounded (MAX_DEPTH). Parsing takes
 * time linear in the input (docs/decisions/0003-markdown-parser.md; inline parsing is in
 * markdown-inline.ts): block parsing reads each line a bounded number of times, without
 * backtracking regular expressions.
 */
import { isSpace, MAX_DEPTH, parseInline, work } from "./markdown-inline.ts";

export { safeHref } from "./markdown-inline.ts";

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

export function parseMarkdown(input: string): Block[] {
  return parseCapped(input, MAX_INPUT);
}

/** parseMarkdown with its work counted: the tree and the characters looked at (tests, scripts/bench). */
export function measureMarkdown(input: string, maxInput = MAX_INPUT): { blocks: Block[]; steps: number } {
  const before = work.steps;
  const blocks = parseCapped(input, maxInput);
  return { blocks, steps: work.steps - before };
}

function parseCapped(input: string, maxInput: number): Block[] {
  const text = input.slice(0, maxInput);
  work.steps += text.length; // the newline normalisation and the split
  return parseBlocks(text.replace(/\r\n?/g, "\n").split("\n"), 0);
}

/** The language of an opening ``` fence ("" without one), or null when the line is not one. */
function fenceLanguage(line: string): string | null {
  if (!line.startsWith("```")) return null;
  const language = line.slice(3).trim();
  return /^[A-Za-z0-9_+-]{0,20}$/.test(language) ? language : null;
}
const isClosingFence = (line: string): boolean => line.startsWith("```") && line.slice(3).trim() === "";

/** A list item line: `- x`, `* x` or `12. x` (leading spaces allowed); hand-scanned, no backtracking. */
function listItem(line: string): { ordered: boolean; content: string } | null {
  let i = 0;
  while (isSpace(line[i])) i++;
  let ordered = false;
  if (line[i] === "-" || line[i] === "*") i++;
  else {
    const digits = i;
    while (i - digits < 10 && line[i]! >= "0" && line[i]! <= "9") i++;
    if (i === digits || i - digits > 9 || line[i] !== ".") return null;
    ordered = true;
    i++;
  }
  if (!isSpace(line[i])) return null;
  while (isSpace(line[i])) i++;
  return { ordered, content: line.slice(i) };
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
    work.steps += line.length + 1;
    const language = fenceLanguage(line);
    if (language !== null) {
      flush();
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !isClosingFence(lines[j]!)) {
        work.steps += lines[j]!.length + 1;
        body.push(lines[j++]!);
      }
      blocks.push({ type: "code_block", language: language || null, text: body.join("\n") });
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
    const first = listItem(line);
    if (first) {
      flush();
      const items: Inline[][] = [];
      let j = i;
      for (; j < lines.length; j++) {
        const item = j === i ? first : listItem(lines[j]!);
        if (!item || item.ordered !== first.ordered) break;
        if (j > i) work.steps += lines[j]!.length + 1;
        items.push(parseInline(item.content, depth));
      }
      blocks.push({ type: "list", ordered: first.ordered, items });
      i = j - 1;
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line);
  }
  flush();
  return blocks;
}

/** Plain text of a tree (notification previews, copy-as-text, search in decrypted history). */
export function toPlainText(blocks: Block[]): string {
  const inline = (nodes: Inline[]): string =>
    nodes.map((n) => (n.type === "text" || n.type === "code" ? n.text : n.type === "break" ? "\n" : n.type === "mention" ? `@${n.name}` : n.type === "emoji" ? n.char : inline(n.children))).join("");
  return blocks
    .map((b) => (b.type === "paragraph" ? inline(b.children) : b.type === "code_block" ? b.text : b.type === "quote" ? toPlainText(b.children) : b.items.map(inline).join("\n")))
    .join("\n");
}
