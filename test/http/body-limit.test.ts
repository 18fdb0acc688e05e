/**
 * Bodies over 110 MB (seeds/000) are refused: by the declared Content-Length before the body is
 * read (our JSON error), and, for chunked bodies that declare nothing, by Bun's own limit, which
 * main.ts sets to the same number.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MAX_BODY_BYTES } from "../../src/app.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";

let ctx: TestContext;
let url: string;
beforeAll(async () => {
  ctx = await createTestContext();
  ctx.app.post("/api/test/echo", async ({ request }) => ({ bytes: (await request.arrayBuffer()).byteLength }));
  ctx.app.listen({ hostname: "127.0.0.1", port: 0, maxRequestBodySize: MAX_BODY_BYTES });
  url = `http://127.0.0.1:${ctx.app.server!.port}/api/test/echo`;
});
afterAll(() => ctx.close());

test("a chunked body that grows past 110 MB is cut off with 413", async () => {
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 112) return controller.close();
      sent++;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(url, { method: "POST", body, duplex: "half" } as RequestInit);
  expect(res.status).toBe(413);
});

test("a declared Content-Length over the limit gets the JSON error before any body is read", async () => {
  const res = await ctx.request("/api/test/echo", { method: "POST", headers: { "content-length": String(MAX_BODY_BYTES + 1) }, body: "x" });
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
});

test("a body under the limit passes", async () => {
  const res = await fetch(url, { method: "POST", body: new Uint8Array(4 * 1024 * 1024) });
  expect(await res.json()).toEqual({ bytes: 4 * 1024 * 1024 });
});
