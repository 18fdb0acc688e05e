import { describe, expect, test } from "bun:test";
import { MAX_INPUT, parseMarkdown, safeHref, toPlainText, type Block, type Inline } from "../../../src/client/messages/markdown.ts";

const inline = (text: string): Inline[] => {
  const [block] = parseMarkdown(text);
  if (!block || block.type !== "paragraph") throw new Error(`expected a paragraph, got ${JSON.stringify(block)}`);
  return block.children;
};

/** Every href anywhere in a tree. */
function hrefs(blocks: Block[]): string[] {
  const fromInline = (nodes: Inline[]): string[] => nodes.flatMap((n) => (n.type === "link" ? [n.href, ...fromInline(n.children)] : "children" in n ? fromInline(n.children) : []));
  return blocks.flatMap((b) => (b.type === "paragraph" ? fromInline(b.children) : b.type === "quote" ? hrefs(b.children) : b.type === "list" ? b.items.flatMap(fromInline) : []));
}

describe("inline markdown", () => {
  test("emphasis, strike and code", () => {
    expect(inline("a **b** *c* _d_ ~~e~~ `f*g*`")).toEqual([
      { type: "text", text: "a " },
      { type: "bold", children: [{ type: "text", text: "b" }] },
      { type: "text", text: " " },
      { type: "italic", children: [{ type: "text", text: "c" }] },
      { type: "text", text: " " },
      { type: "italic", children: [{ type: "text", text: "d" }] },
      { type: "text", text: " " },
      { type: "strike", children: [{ type: "text", text: "e" }] },
      { type: "text", text: " " },
      { type: "code", text: "f*g*" },
    ]);
  });
  test("unmatched delimiters and escapes stay literal", () => {
    expect(toPlainText(parseMarkdown("2 * 3 * 4 and \\*not italic\\* and snake_case_name"))).toBe("2 * 3 * 4 and *not italic* and snake_case_name");
  });
  test("mentions, emoji and line breaks", () => {
    expect(inline("hi @alice.b, :tada:\nbye")).toEqual([
      { type: "text", text: "hi " },
      { type: "mention", name: "alice.b" },
      { type: "text", text: ", " },
      { type: "emoji", name: "tada", char: "🎉" },
      { type: "break" },
      { type: "text", text: "bye" },
    ]);
    expect(inline("mail me at bob@example.com")).toEqual([{ type: "text", text: "mail me at bob@example.com" }]);
    expect(inline(":notanemoji:")).toEqual([{ type: "text", text: ":notanemoji:" }]);
  });
  test("link destinations may hold one level of balanced parentheses (Wikipedia links)", () => {
    expect(hrefs(parseMarkdown("[Foo](https://en.wikipedia.org/wiki/Foo_(bar))"))).toEqual(["https://en.wikipedia.org/wiki/Foo_(bar)"]);
    expect(toPlainText(parseMarkdown("[a](https://x.example/(b)c) after"))).toBe("a after");
  });
  test("a URL with an invalid host stays text, and a good URL after it in the same run is still found", () => {
    expect(hrefs(parseMarkdown("x http://|http://a.example y"))).toEqual(["http://a.example/"]);
    expect(toPlainText(parseMarkdown("x http://|http://a.example y"))).toBe("x http://|http://a.example y");
    expect(inline("http://:tada:")).toEqual([{ type: "text", text: "http://" }, { type: "emoji", name: "tada", char: "🎉" }]);
  });
  test("autolinks stop before trailing punctuation", () => {
    expect(hrefs(parseMarkdown("see https://example.com/a?b=1. (and https://x.example/y)"))).toEqual(["https://example.com/a?b=1", "https://x.example/y"]);
  });
});

describe("blocks", () => {
  test("fenced code keeps its text verbatim, with a language", () => {
    expect(parseMarkdown("```ts\nconst x = <b>1</b>;\n**not bold**\n```\nafter")).toEqual([
      { type: "code_block", language: "ts", text: "const x = <b>1</b>;\n**not bold**" },
      { type: "paragraph", children: [{ type: "text", text: "after" }] },
    ]);
  });
  test("quotes nest, lists group", () => {
    const blocks = parseMarkdown("> quoted\n> > deeper\n\n- one\n- **two**\n1. first\n2. second");
    expect(blocks.map((b) => b.type)).toEqual(["quote", "list", "list"]);
    expect((blocks[0] as Extract<Block, { type: "quote" }>).children.map((b) => b.type)).toEqual(["paragraph", "quote"]);
    expect((blocks[1] as Extract<Block, { type: "list" }>).ordered).toBe(false);
    expect((blocks[2] as Extract<Block, { type: "list" }>).items).toHaveLength(2);
  });
});

describe("hostile input", () => {
  const attacks = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "[x](vbscript:msgbox)",
    "[x](//evil.example/steal)",
    "[x](file:///etc/passwd)",
  ];
  test.each(attacks)("no unsafe link from %s", (text) => {
    expect(hrefs(parseMarkdown(text))).toEqual([]);
  });
  test("HTML is text, never markup", () => {
    const text = '<script>alert(1)</script><img src=x onerror=alert(1)> "><svg onload=alert(1)>';
    expect(toPlainText(parseMarkdown(text))).toBe(text);
    expect(JSON.stringify(parseMarkdown(text))).not.toContain('"type":"html"');
  });
  test("safeHref normalises and restricts schemes", () => {
    expect(safeHref(" https://example.com/a b")).toBe("https://example.com/a%20b");
    expect(safeHref("mailto:a@b.c")).toBe("mailto:a@b.c");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("https://")).toBeNull();
  });
  test("deep nesting and huge input are bounded", () => {
    const deep = "> ".repeat(500) + "x";
    expect(() => parseMarkdown(deep)).not.toThrow();
    const nestedEmphasis = "**".repeat(2000) + "x" + "**".repeat(2000);
    expect(() => parseMarkdown(nestedEmphasis)).not.toThrow();
    const huge = "a".repeat(MAX_INPUT * 3);
    expect(toPlainText(parseMarkdown(huge)).length).toBe(MAX_INPUT);
  });
});
