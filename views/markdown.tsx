/**
 * Server-side markdown for text admins write (announcements, the legal pages): the chat's own
 * parser (src/client/messages/markdown.ts, pure and linear-time, no DOM) turned into JSX, so every
 * piece of text is escaped by construction and only a fixed set of tags is produced. Links are
 * http(s)/mailto only (the parser's safeHref) and open with rel="noopener noreferrer nofollow".
 */
import type { FC } from "hono/jsx";
import { parseMarkdown, type Block, type Inline } from "../src/client/messages/markdown.ts";

const InlineNodes: FC<{ nodes: Inline[] }> = ({ nodes }) => <>{nodes.map((node) => <InlineNode node={node} />)}</>;

const InlineNode: FC<{ node: Inline }> = ({ node }) => {
  switch (node.type) {
    case "text":
      return <>{node.text}</>;
    case "bold":
      return <strong><InlineNodes nodes={node.children} /></strong>;
    case "italic":
      return <em><InlineNodes nodes={node.children} /></em>;
    case "strike":
      return <s><InlineNodes nodes={node.children} /></s>;
    case "code":
      return <code>{node.text}</code>;
    case "link":
      return <a href={node.href} rel="noopener noreferrer nofollow"><InlineNodes nodes={node.children} /></a>;
    case "mention":
      return <>@{node.name}</>;
    case "emoji":
      return <>{node.char}</>;
    case "break":
      return <br />;
  }
};

const BlockNode: FC<{ block: Block }> = ({ block }) => {
  switch (block.type) {
    case "paragraph":
      return <p><InlineNodes nodes={block.children} /></p>;
    case "code_block":
      return <pre><code>{block.text}</code></pre>;
    case "quote":
      return <blockquote>{block.children.map((b) => <BlockNode block={b} />)}</blockquote>;
    case "list":
      return block.ordered ? <ol>{block.items.map((item) => <li><InlineNodes nodes={item} /></li>)}</ol> : <ul>{block.items.map((item) => <li><InlineNodes nodes={item} /></li>)}</ul>;
  }
};

/** The markdown `source` as escaped HTML elements (a fragment: the caller supplies the container). */
export const Markdown: FC<{ source: string }> = ({ source }) => <>{parseMarkdown(source).map((block) => <BlockNode block={block} />)}</>;
