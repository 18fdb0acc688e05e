/**
 * How long user-written text may be: one definition for the forms that write it and the clients
 * that show it (issue 10 §6). Lengths are UTF-16 code units, as a form control's maxlength counts
 * them. The server sees only ciphertext and cannot check, and a modified client can encrypt text
 * of any length, so receivers check too: text over its limit is not shown (a notice says why);
 * the sender's own client refuses to encrypt it.
 */
import { MAX_POLL_OPTIONS } from "./poll-limits.ts";

export { MAX_POLL_OPTIONS, MIN_POLL_OPTIONS } from "./poll-limits.ts";

/** A message, an edit, a thread reply, a scheduled message. */
export const MAX_MESSAGE_CHARS = 4000;
export const MAX_POLL_QUESTION_CHARS = 300;
export const MAX_POLL_OPTION_CHARS = 200;
export const MAX_BOOKMARK_NOTE_CHARS = 1000;
/**
 * A poll's encrypted payload is JSON {q, o}: its fields are checked one by one after parsing;
 * this only bounds the JSON text (each character escapes to at most 6, plus the syntax).
 */
export const MAX_POLL_PAYLOAD_CHARS = 6 * (MAX_POLL_QUESTION_CHARS + MAX_POLL_OPTIONS * MAX_POLL_OPTION_CHARS) + 64;

const count = (n: number) => n.toLocaleString("en-US");

/** What a reader sees instead of received text over its limit. */
export function describeTooLong(what: string, length: number, limit: number): string {
  return `${what} too long — not shown (${count(length)} characters; Hearth apps send at most ${count(limit)}).`;
}

/** Received text within `limit`, or the notice shown instead of it. */
export function checkReceivedText(what: string, text: string, limit: number): { status: "ok"; text: string } | { status: "failed"; reason: string } {
  return text.length <= limit ? { status: "ok", text } : { status: "failed", reason: describeTooLong(what, text.length, limit) };
}

/** What the writer sees when their own text is over the limit (forms normally stop it first). */
export function describeLimit(what: string, limit: number): string {
  return `${what} can be at most ${count(limit)} characters.`;
}
