/**
 * The markdown parser's work grows linearly with its input (issue 10 §6: `_a ` × 13,000 took
 * 4.2 s in Chromium). Not timed: the parser counts the characters it looks at (measureMarkdown's
 * `steps`), and for every input family, adversarial and random, from 1k to 100k characters:
 *  - steps ≤ STEPS_PER_CHAR · n (the bound the design gives: ≤ 7 nesting levels, each looking at
 *    a character a bounded number of times), and
 *  - the per-character cost at 100k is within GROWTH of the one at 1k (a quadratic parser's
 *    per-character cost grows 100-fold over that range).
 * Inputs come from a seeded generator, so every run tests the same strings.
 */
import { describe, expect, test } from "bun:test";
import { measureMarkdown, toPlainText } from "../../../src/client/messages/markdown.ts";

const SIZES = [1_000, 4_000, 10_000, 40_000, 100_000];
const STEPS_PER_CHAR = 64;
const GROWTH = 1.5;

/** mulberry32: a small seeded PRNG (deterministic inputs, no flakiness). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `unit` repeated (or built) until `n` characters, cut at n. */
const repeatTo = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

const ADVERSARIAL: Record<string, (n: number) => string> = {
  "issue 10: `_a ` repeated": (n) => repeatTo("_a ", n),
  "`*a ` repeated": (n) => repeatTo("*a ", n),
  "`**a ` repeated": (n) => repeatTo("**a ", n),
  "`__a ` repeated": (n) => repeatTo("__a ", n),
  "`~~a ` repeated": (n) => repeatTo("~~a ", n),
  "openers, closer at the end": (n) => repeatTo("*_~~**__", n - 2) + " *",
  "nested emphasis, balanced": (n) => {
    const k = Math.floor((n - 1) / 16);
    return ("**_~~*__".repeat(k) + "x" + "__*~~_**".repeat(k)).padEnd(n, " ");
  },
  "emphasis nested 6 deep around mentions and links": (n) => repeatTo("*_**~~__*a @bob [x](https://e.x/(y)) https://e.x/a*__~~**_* ", n),
  "snake_case words": (n) => repeatTo("a_b_c ", n),
  "unclosed backticks": (n) => repeatTo("`a ", n),
  "backtick pairs": (n) => repeatTo("``", n),
  "backslashes": (n) => repeatTo("\\", n),
  "escaped delimiters": (n) => repeatTo("\\*\\_\\[\\`", n),
  "[ without ]": (n) => repeatTo("[", n),
  "[ … ](url) shared by many [": (n) => repeatTo("[", n - 17) + "a](https://e.x/a)",
  "[a]( without )": (n) => repeatTo("[a](", n),
  "[a](http://x( nesting": (n) => repeatTo("[a](http://x(", n),
  "[a](javascript: …)": (n) => repeatTo("[a](javascript:", n),
  "[a](https://x[b](https://y)z) nesting": (n) => repeatTo("[a](https://x[b](https://y)z", n),
  "long link text and destination": (n) => repeatTo(`[${"t".repeat(499)}](https://e.x/${"p".repeat(1990)}) `, n),
  "invalid hosts in one run": (n) => repeatTo("http://|", n),
  "valid host, path runs on": (n) => "https://e.x/" + repeatTo("https://", n - 12),
  "trailing punctuation runs": (n) => repeatTo("http://a.b.....,,,,;;;;))))", n),
  "schemes only": (n) => repeatTo("https://", n),
  "mailto: runs": (n) => repeatTo("mailto:", n),
  "<angle without >": (n) => repeatTo("<http://a", n),
  "<angle> with bad hosts": (n) => repeatTo("<http://|>", n),
  "@ runs": (n) => repeatTo("@", n),
  "@mentions": (n) => repeatTo("@alice.b ", n),
  ": runs": (n) => repeatTo(":tada", n),
  "quotes 500 deep": (n) => repeatTo("> ", n),
  "quote lines": (n) => repeatTo("> > > a *b* _c_\n", n),
  "list lines": (n) => repeatTo("- a\n1. b\n* c\n", n),
  "spaces before a non-bullet": (n) => repeatTo(" ", n - 1) + "x",
  "bullet, spaces, line separator": (n) => "-" + repeatTo(" ", n - 2) + "\u2028",
  "fence with spaces": (n) => "```" + repeatTo(" ", n - 4) + "x",
  "unclosed fence": (n) => "```\n" + repeatTo("a **b** _c_\n", n - 4),
  "blank-line paragraphs": (n) => repeatTo("*a\n\n_b\n\n", n),
};

const TOKENS = [
  "_", "*", "**", "__", "~", "~~", "`", "```", "\\", "[", "]", "(", ")", "](", "<", ">", "a", "b", "é", "1", " ", " ", "\n", "\n\n",
  "http://", "https://e.x/", "mailto:", "javascript:", "|", ".", ",", ")", "@", "@al", ":", ":tada:", "> ", "- ", "1. ", "x_y", "\t",
];

function randomInput(seed: number, n: number, weights?: string[]): string {
  const next = prng(seed);
  const pool = weights ?? TOKENS;
  let s = "";
  while (s.length < n) s += pool[Math.floor(next() * pool.length)];
  return s.slice(0, n);
}

const RANDOM: Record<string, (n: number) => string> = {
  "random tokens (seed 1)": (n) => randomInput(1, n),
  "random tokens (seed 2)": (n) => randomInput(2, n),
  "random delimiters only": (n) => randomInput(3, n, ["_", "*", "~", "`", "\\", "a", " "]),
  "random link syntax only": (n) => randomInput(4, n, ["[", "]", "(", ")", "https://", "a", "|", "/", " "]),
  "random URL characters": (n) => randomInput(5, n, ["http://", "mailto:", "<", ">", "/", ".", ")", "|", "a", "@", ":"]),
};

function perChar(make: (n: number) => string): number[] {
  return SIZES.map((n) => {
    const input = make(n);
    expect(input.length).toBe(n);
    return measureMarkdown(input, Number.POSITIVE_INFINITY).steps / n;
  });
}

describe("markdown parsing is linear in its input", () => {
  for (const [name, make] of Object.entries({ ...ADVERSARIAL, ...RANDOM })) {
    test(name, () => {
      const costs = perChar(make);
      console.log(`${name}: steps per character at ${SIZES.join(", ")}: ${costs.map((c) => c.toFixed(1)).join(", ")}`);
      for (const [i, cost] of costs.entries()) expect({ n: SIZES[i], cost: cost <= STEPS_PER_CHAR }).toEqual({ n: SIZES[i], cost: true });
      expect(costs.at(-1)!).toBeLessThanOrEqual(costs[0]! * GROWTH + 1);
    });
  }

  test("the issue's message (`_a ` × 13,000, 39 KB) stays literal text and costs a few steps per character", () => {
    const input = "_a ".repeat(13_000);
    const { blocks, steps } = measureMarkdown(input, Number.POSITIVE_INFINITY);
    expect(toPlainText(blocks)).toBe(input);
    expect(steps / input.length).toBeLessThanOrEqual(8);
  });
});
