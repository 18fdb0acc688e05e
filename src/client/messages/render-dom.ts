/**
 * Renders a markdown tree (markdown.ts) into DOM nodes. The only way text reaches the page is
 * `document.createTextNode` / `textContent`, and the only elements created are a fixed list; no
 * attribute takes user text except a link's href, which markdown.ts has already restricted to
 * http(s)/mailto. This is the sanitiser: there is no HTML string anywhere.
 */
import type { Block, Inline } from "./markdown.ts";

export type RenderOptions = {
  /** Usernames that exist in the conversation: only those render as mention chips. */
  isKnownUser?: (name: string) => boolean;
  /** The reader's own username: mentions of them are highlighted. */
  selfUsername?: string;
  /** The message's @everyone / @here as the server stored it: only that word renders as a (highlighted) mention. */
  mentionAll?: string | null;
};

/** Appends one by one: spreading thousands of children into one append() call can exceed the engine's argument limit. */
function appendInlines(doc: Document, parent: Node, nodes: Inline[], opts: RenderOptions): void {
  for (const node of nodes) parent.appendChild(renderInline(doc, node, opts));
}

export function renderBlocks(doc: Document, blocks: Block[], opts: RenderOptions = {}): DocumentFragment {
  const fragment = doc.createDocumentFragment();
  for (const block of blocks) fragment.appendChild(renderBlock(doc, block, opts));
  return fragment;
}

function renderBlock(doc: Document, block: Block, opts: RenderOptions): Node {
  switch (block.type) {
    case "paragraph": {
      const p = doc.createElement("p");
      appendInlines(doc, p, block.children, opts);
      return p;
    }
    case "code_block": {
      const pre = doc.createElement("pre");
      const code = doc.createElement("code");
      if (block.language) code.dataset.language = block.language;
      code.textContent = block.text;
      pre.append(code);
      return pre;
    }
    case "quote": {
      const q = doc.createElement("blockquote");
      q.append(renderBlocks(doc, block.children, opts));
      return q;
    }
    case "list": {
      const list = doc.createElement(block.ordered ? "ol" : "ul");
      for (const item of block.items) {
        const li = doc.createElement("li");
        appendInlines(doc, li, item, opts);
        list.append(li);
      }
      return list;
    }
  }
}

function renderInline(doc: Document, node: Inline, opts: RenderOptions): Node {
  switch (node.type) {
    case "text":
      return doc.createTextNode(node.text);
    case "break":
      return doc.createElement("br");
    case "code": {
      const code = doc.createElement("code");
      code.textContent = node.text;
      return code;
    }
    case "bold":
    case "italic":
    case "strike": {
      const el = doc.createElement(node.type === "bold" ? "strong" : node.type === "italic" ? "em" : "s");
      appendInlines(doc, el, node.children, opts);
      return el;
    }
    case "link": {
      const a = doc.createElement("a");
      a.href = node.href;
      a.rel = "noopener noreferrer nofollow ugc";
      a.target = "_blank";
      appendInlines(doc, a, node.children, opts);
      return a;
    }
    case "mention": {
      const lower = node.name.toLowerCase();
      const all = lower === "everyone" || lower === "here";
      if (all ? opts.mentionAll !== lower : opts.isKnownUser && !opts.isKnownUser(node.name)) return doc.createTextNode(`@${node.name}`);
      const span = doc.createElement("span");
      span.className = all || lower === opts.selfUsername?.toLowerCase() ? "mention mention--self" : "mention";
      span.textContent = `@${node.name}`;
      return span;
    }
    case "emoji": {
      const span = doc.createElement("span");
      span.className = "emoji";
      span.title = `:${node.name}:`;
      span.textContent = node.char;
      return span;
    }
  }
}
