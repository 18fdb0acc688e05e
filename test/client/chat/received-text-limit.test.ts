/**
 * Issue 10 §6: the 4,000-character limit held only in the textarea; a modified client could send
 * any length (a 39 KB message froze every reader's tab). Here Alice's client is a modified one
 * (it encrypts past the limit) and Bob's real ChatEngine, against the real server and crypto,
 * must refuse to show it — as a new message and as an edit — while a 4,000-character one shows.
 * An unmodified client refuses to encrypt past the limit. Polls and bookmark notes (decrypted text
 * with limits of their own) are checked by the same rule.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatEngine } from "../../../src/client/chat/engine.ts";
import { readPollContent } from "../../../src/client/chat/polls-ui.ts";
import { normaliseMessage, type ChatMessage } from "../../../src/client/chat/types.ts";
import { MemoryKeyStore } from "../../../src/client/e2ee/key-store.ts";
import * as limits from "../../../src/shared/text-limits.ts";
import { checkReceivedText, MAX_BOOKMARK_NOTE_CHARS, MAX_MESSAGE_CHARS, MAX_POLL_OPTION_CHARS, MAX_POLL_QUESTION_CHARS } from "../../../src/shared/text-limits.ts";
import { aliceAndBobInCommunity, apiCaller, type TwoMembers } from "../../helpers/chat-e2e.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";

let ctx: TestContext;
let m: TwoMembers;
let channelId = "";
const realFetch = globalThis.fetch;
/** Whose session the engine's API calls (relative /api/... fetches) run with. */
let actingAs: Record<string, string> = {};

beforeAll(async () => {
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  m = await aliceAndBobInCommunity(ctx, apiCaller(ctx), "Limits");
  channelId = m.group.channels[0]!.id;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    ctx.request(String(input), { ...init, headers: { ...(init?.headers as Record<string, string>), ...actingAs } })) as typeof fetch;
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await ctx?.close();
});

async function as<T>(headers: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  actingAs = headers;
  return fn();
}

describe("received text over its limit is not shown", () => {
  let alice: ChatEngine;
  let bob: ChatEngine;
  /** The devices Alice encrypts for (issue 11: the engine takes the readers' devices, viewers.ts). */
  const participants = () => [{ userId: m.bob.id, deviceId: bob.deviceId }];

  /** Alice's client, modified to skip the limit: encrypts `text` and posts it (or edits `editId`). */
  async function aliceSends(text: string, editId?: string): Promise<ChatMessage> {
    return as(m.aliceHeaders, async () => {
      const { ciphertext, remember } = await alice.encrypt("sk", channelId, participants(), text, Number.POSITIVE_INFINITY);
      const answer = editId
        ? await ctx.request(`/api/messages/${editId}`, { method: "PATCH", headers: m.aliceHeaders, body: JSON.stringify({ ciphertext }) })
        : await ctx.request(`/api/channels/${channelId}/messages`, {
            method: "POST",
            headers: m.aliceHeaders,
            body: JSON.stringify({ client_id: crypto.randomUUID(), scheme: "sk", ciphertext, sender_device_id: alice.deviceId }),
          });
      expect(answer.status).toBeLessThan(300);
      const message = normaliseMessage(((await answer.json()) as { message: unknown }).message)!;
      await remember(message.id);
      return message;
    });
  }

  async function bobReads(message: ChatMessage) {
    return as(m.bobHeaders, async () => {
      await bob.processToDevice();
      return bob.decrypt(message);
    });
  }

  beforeAll(async () => {
    alice = await as(m.aliceHeaders, () => ChatEngine.open(m.alice.id, new MemoryKeyStore()));
    bob = await as(m.bobHeaders, () => ChatEngine.open(m.bob.id, new MemoryKeyStore()));
  });

  test("a message of exactly 4,000 characters shows; 4,001 and 39,000 do not, with a notice saying why", async () => {
    expect(MAX_MESSAGE_CHARS).toBe(4000);
    const fits = await bobReads(await aliceSends("y".repeat(4000)));
    expect(fits).toEqual({ status: "ok", text: "y".repeat(4000) });
    for (const text of ["z".repeat(4001), "_a ".repeat(13_000)]) {
      const outcome = await bobReads(await aliceSends(text));
      expect(outcome).toEqual({ status: "failed", reason: `Message too long — not shown (${text.length.toLocaleString("en-US")} characters; Hearth apps send at most 4,000).` });
    }
  });

  test("an edit that makes a message too long is not shown either", async () => {
    const original = await aliceSends("short and fine");
    expect(await bobReads(original)).toEqual({ status: "ok", text: "short and fine" });
    const edited = await aliceSends("e".repeat(5000), original.id);
    expect((await bobReads(edited)).status).toBe("failed");
  });

  test("an unmodified client refuses to encrypt past the limit (every send path encrypts through here)", async () => {
    await as(m.aliceHeaders, async () => {
      await expect(alice.encrypt("sk", channelId, participants(), "w".repeat(4001))).rejects.toMatchObject({ code: "MESSAGE_TOO_LONG" });
    });
  });
});

describe("polls and bookmark notes keep their own limits", () => {
  const poll = (q: string, o: string[]) => JSON.stringify({ q, o });

  test("a poll as the form writes it shows", () => {
    expect(readPollContent(poll("Lunch?", ["Pizza", "Soup"]), 2, limits)).toEqual({ q: "Lunch?", o: ["Pizza", "Soup"] });
    const longest = poll("q".repeat(MAX_POLL_QUESTION_CHARS), Array.from({ length: 10 }, () => '"'.repeat(MAX_POLL_OPTION_CHARS)));
    expect(readPollContent(longest, 10, limits)).not.toBeString();
  });

  test("an over-long question or option, a wrong option count or a malformed payload is a notice", () => {
    expect(readPollContent(poll("q".repeat(MAX_POLL_QUESTION_CHARS + 1), ["a", "b"]), 2, limits)).toContain("Poll question too long — not shown");
    expect(readPollContent(poll("Q", ["a", "b".repeat(MAX_POLL_OPTION_CHARS + 1)]), 2, limits)).toContain("Poll option too long — not shown");
    expect(readPollContent(poll("Q", Array.from({ length: 5000 }, () => "x")), 5000, limits)).toContain("do not match");
    expect(readPollContent(poll("Q", ["a", "b", "c"]), 2, limits)).toContain("do not match");
    expect(readPollContent(JSON.stringify({ q: { toString: 1 }, o: ["a", "b"] }), 2, limits)).toBe("This poll could not be read.");
    expect(readPollContent("not json", 2, limits)).toBe("This poll could not be read.");
  });

  test("a bookmark note over 1,000 characters is not shown", () => {
    expect(checkReceivedText("Note", "n".repeat(MAX_BOOKMARK_NOTE_CHARS), MAX_BOOKMARK_NOTE_CHARS).status).toBe("ok");
    expect(checkReceivedText("Note", "n".repeat(MAX_BOOKMARK_NOTE_CHARS + 1), MAX_BOOKMARK_NOTE_CHARS)).toEqual({
      status: "failed",
      reason: "Note too long — not shown (1,001 characters; Hearth apps send at most 1,000).",
    });
  });
});
