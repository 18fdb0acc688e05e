import { describe, expect, test } from "bun:test";
import { isRetryableStatus, SendQueue } from "../../../src/client/chat/send-queue.ts";

describe("SendQueue: pending → sent | failed → retry with the same client id", () => {
  test("a send goes pending, then sent with the server's id and seq", () => {
    const q = new SendQueue();
    const item = q.enqueue("ch", "hello");
    expect(item.state).toBe("pending");
    expect(q.pending()).toHaveLength(1);
    q.markSent(item.clientId, { id: "m1", seq: 7 });
    expect(q.get(item.clientId)).toMatchObject({ state: "sent", messageId: "m1", seq: 7 });
    expect(q.pending()).toHaveLength(0);
  });

  test("a failed send keeps its client id on retry (the server returns the first message for it)", () => {
    let n = 0;
    const q = new SendQueue(() => `client-${++n}`);
    const item = q.enqueue("ch", "hi");
    q.markFailed(item.clientId, "offline");
    expect(q.get(item.clientId)).toMatchObject({ state: "failed", error: "offline" });
    const again = q.retry(item.clientId)!;
    expect(again.clientId).toBe("client-1");
    expect(again).toMatchObject({ state: "pending", attempts: 2, error: undefined });
    expect(n).toBe(1);
  });

  test("only failed items can be retried; a sent item is never marked failed by a late error", () => {
    const q = new SendQueue();
    const item = q.enqueue("ch", "x");
    expect(q.retry(item.clientId)).toBeUndefined();
    q.markSent(item.clientId, { id: "m", seq: 1 });
    q.markFailed(item.clientId, "late timeout");
    expect(q.get(item.clientId)!.state).toBe("sent");
  });

  test("client ids are UUIDs by default and distinct", () => {
    const q = new SendQueue();
    const a = q.enqueue("ch", "a").clientId;
    const b = q.enqueue("ch", "b").clientId;
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  test("retryable statuses: network, 429, 5xx", () => {
    expect([0, 429, 500, 503].map(isRetryableStatus)).toEqual([true, true, true, true]);
    expect([400, 403, 404, 409, 413].map(isRetryableStatus)).toEqual([false, false, false, false, false]);
  });
});
