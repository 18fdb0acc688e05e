import { afterEach, describe, expect, test } from "bun:test";
import { ApiError } from "../../../src/client/chat/api.ts";
import { bookmarkMessage, bookmarkNotice } from "../../../src/client/chat/extras.ts";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

function answer(status: number, body?: unknown): void {
  globalThis.fetch = (async (_path: string, init: RequestInit) => {
    calls.push({ body: init.body as string });
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
}
let calls: { body: string }[] = [];

describe("bookmark action (message menu)", () => {
  test("posts only the message id (no note, no text) and reports added", async () => {
    calls = [];
    answer(201, { bookmark: { id: "b1" } });
    expect(await bookmarkMessage("m1")).toBe("added");
    expect(JSON.parse(calls[0]!.body)).toEqual({ message_id: "m1" });
    expect(bookmarkNotice("added")).toBe("Bookmarked.");
  });

  test("409 BOOKMARK_EXISTS is 'already bookmarked', other errors propagate", async () => {
    answer(409, { error: { code: "BOOKMARK_EXISTS", message: "You already bookmarked this message." } });
    expect(await bookmarkMessage("m1")).toBe("exists");
    expect(bookmarkNotice("exists")).toBe("Already bookmarked.");
    answer(404, { error: { code: "MESSAGE_NOT_FOUND", message: "No such message." } });
    const error = await bookmarkMessage("m2").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("MESSAGE_NOT_FOUND");
  });
});
