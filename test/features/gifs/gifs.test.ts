// GIF search through Hearth (docs/integrations.md "GIF search") against a loopback stand-in for
// the Giphy API and its media hosts (base URL and media resolution injected through deps, never
// env; nothing leaves 127.0.0.1): answers are normalised and cached (a hit makes no second
// upstream call), the rating is passed on, the key is in no response and no log line; the media
// proxy serves only Giphy's media hosts, only GIF/WebP/MP4, with nosniff and cache headers, and
// cuts what is too large; with the key unset every GIF route is 404 and the composer has no button.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadConfig } from "../../../src/config.ts";
import { gifCacheSize } from "../../../src/features/gifs/index.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, type Client } from "../communities/helpers.ts";

setDefaultTimeout(120_000);
const KEY = `giphy-key-${crypto.randomUUID()}`;
const GIF_BYTES = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b]);

type Seen = { path: string; params: URLSearchParams };
const seen: Seen[] = [];
let server: ReturnType<typeof Bun.serve>;
let ctx: TestContext;
let off: TestContext;
let alice: Client;
let media = "";
const responses: string[] = [];

function giphyAnswer(port: number, count: number) {
  const host = `http://media0.giphy.com:${port}`;
  const data = Array.from({ length: count }, (_, i) => ({
    id: `gif${i}abc`,
    title: `Cat ${i}`,
    images: {
      fixed_height: { url: `${host}/media/v1.Y2lk/gif${i}abc/200.gif?cid=tracking&rid=200.gif&ct=g`, width: "267", height: "200" },
      fixed_height_small: { url: `${host}/media/gif${i}abc/100.gif?cid=tracking`, width: "133", height: "100" },
    },
  }));
  // One result from somewhere else: it must be dropped.
  data.push({ id: "evil1", title: "Evil", images: { fixed_height: { url: "https://evil.example.com/x.gif", width: "1", height: "1" }, fixed_height_small: { url: "https://evil.example.com/x.gif", width: "1", height: "1" } } });
  return { data, pagination: { total_count: 100, count, offset: 0 }, meta: { status: 200 } };
}

beforeAll(async () => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      seen.push({ path: url.pathname, params: url.searchParams });
      if (url.pathname === "/v1/gifs/search" || url.pathname === "/v1/gifs/trending") return Response.json(giphyAnswer(server.port!, 3));
      if (url.pathname.endsWith("/html/200.gif")) return new Response("<script>alert(1)</script>", { headers: { "content-type": "text/html" } });
      if (url.pathname.endsWith("/redirect/200.gif")) return new Response(null, { status: 302, headers: { location: `http://127.0.0.1:${server.port}/media/gif0abc/200.gif` } });
      if (url.pathname.endsWith("/declared-big/200.gif")) return new Response(new Uint8Array(8192), { headers: { "content-type": "image/gif" } });
      if (url.pathname.endsWith("/streamed-big/200.gif")) {
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            controller.enqueue(new Uint8Array(1024));
            await Bun.sleep(1);
          },
        });
        return new Response(stream, { headers: { "content-type": "image/gif" } });
      }
      if (url.pathname.startsWith("/media/")) return new Response(GIF_BYTES, { headers: { "content-type": "image/gif" } });
      return new Response("no", { status: 404 });
    },
  });
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone", GIPHY_API_KEY: KEY, GIPHY_RATING: "pg-13" }, captureLogs: true });
  ctx.deps.gifs = {
    apiBaseUrl: `http://127.0.0.1:${server.port}`,
    allowHttpMedia: true,
    // The media hosts keep their names (media0.giphy.com); only their address is the stand-in's.
    mediaPolicy: { resolve: async () => ["127.0.0.1"], allowAddress: (ip) => ip === "127.0.0.1", allowPort: (port) => port === server.port },
    mediaMaxBytes: 4096,
  };
  alice = await client(ctx);
  media = `http://media0.giphy.com:${server.port}/media/v1.Y2lk/gif0abc/200.gif`;
  off = await communityTestContext();
});
afterAll(async () => {
  server.stop(true);
  await ctx.close();
  await off.close();
});

async function call(c: Client, path: string): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const r = await ctx.request(path, { headers: c.headers });
  const text = await r.text();
  responses.push(text, JSON.stringify([...r.headers]));
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: r.status, body, headers: r.headers, text };
}

/** The community's first channel page (GET /c/{id} redirects there). */
async function channelPage(c: TestContext, who: Client, communityId: string): Promise<string> {
  let r = await c.request(`/c/${communityId}`, { headers: who.headers });
  if (r.status >= 300 && r.status < 400) r = await c.request(new URL(r.headers.get("location")!, "http://localhost").pathname, { headers: who.headers });
  expect(r.status).toBe(200);
  return r.text();
}

const upstreamCalls = () => seen.filter((s) => s.path.startsWith("/v1/")).length;

test("GIPHY_RATING defaults to g and takes only Giphy's ratings", () => {
  expect(loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/x" }).giphyRating).toBe("g");
  expect(loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/x", GIPHY_RATING: "r" }).giphyRating).toBe("r");
  expect(() => loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/x", GIPHY_RATING: "nsfw" })).toThrow(/GIPHY_RATING/);
});

test("search: normalised (Giphy's media hosts only, no tracking query), the rating and key go upstream; a cache hit makes no second call", async () => {
  const first = await call(alice, "/api/gifs/search?q=%20Happy%20%20Cat%20");
  expect(first.status).toBe(200);
  expect(first.body.results).toHaveLength(3);
  expect(first.body.results[0]).toEqual({
    id: "gif0abc",
    title: "Cat 0",
    gif: { url: media, width: 267, height: 200 },
    preview: { url: `http://media0.giphy.com:${server.port}/media/gif0abc/100.gif`, width: 133, height: 100 },
  });
  expect(JSON.stringify(first.body)).not.toContain("evil.example.com");
  expect(JSON.stringify(first.body)).not.toContain("cid=");
  expect(upstreamCalls()).toBe(1);
  const up = seen.find((s) => s.path === "/v1/gifs/search")!;
  expect(up.params.get("q")).toBe("happy cat");
  expect(up.params.get("rating")).toBe("pg-13");
  expect(up.params.get("api_key")).toBe(KEY);

  const again = await call(alice, "/api/gifs/search?q=happy%20cat");
  expect(again.status).toBe(200);
  expect(again.body).toEqual(first.body);
  expect(upstreamCalls()).toBe(1);
  expect(gifCacheSize(ctx.deps)).toBe(1);

  const trending = await call(alice, "/api/gifs/trending");
  expect(trending.status).toBe(200);
  expect(trending.body.results).toHaveLength(3);
  await call(alice, "/api/gifs/trending");
  expect(upstreamCalls()).toBe(2);
  expect(seen.filter((s) => s.path === "/v1/gifs/trending")).toHaveLength(1);
});

test("bad input: an over-long query or limit is 400; signed out is 401", async () => {
  expect((await call(alice, `/api/gifs/search?q=${"a".repeat(101)}`)).status).toBe(400);
  expect((await call(alice, "/api/gifs/search?q=x&limit=500")).status).toBe(400);
  expect((await call(alice, "/api/gifs/trending?offset=-1")).status).toBe(400);
  expect((await ctx.request("/api/gifs/search?q=x")).status).toBe(401);
  expect((await ctx.request(`/api/gifs/media?url=${encodeURIComponent(media)}`)).status).toBe(401);
});

test("media proxy: a Giphy media file streams through with its type, nosniff and cache headers", async () => {
  const before = seen.length;
  const r = await ctx.request(`/api/gifs/media?url=${encodeURIComponent(media)}`, { headers: alice.headers });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("image/gif");
  expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  expect(r.headers.get("cache-control")).toContain("max-age=86400");
  expect(new Uint8Array(await r.arrayBuffer())).toEqual(GIF_BYTES);
  // The stand-in was asked for the path, with the media host's name.
  expect(seen.slice(before).map((s) => s.path)).toEqual(["/media/v1.Y2lk/gif0abc/200.gif"]);
});

describe("media proxy refusals", () => {
  test.each([
    ["another host", `http://evil.example.com:PORT/media/a/200.gif`],
    ["a look-alike host", `http://media0.giphy.com.evil.example:PORT/media/a/200.gif`],
    ["giphy.com itself", `http://giphy.com:PORT/media/a/200.gif`],
    ["user info", `http://x@media0.giphy.com:PORT/media/a/200.gif`],
    ["an IP", `http://127.0.0.1:PORT/media/a/200.gif`],
    ["another port", `http://media0.giphy.com:1/media/a/200.gif`],
    ["another extension", `http://media0.giphy.com:PORT/media/a/200.html`],
    ["a data: URL", `data:image/gif;base64,R0lGODlhAQABAAAAACw=`],
    ["not a URL", `javascript:alert(1)`],
  ])("%s: 400 GIF_MEDIA_REFUSED, nothing fetched", async (_, raw) => {
    const before = seen.length;
    const r = await call(alice, `/api/gifs/media?url=${encodeURIComponent(raw.replace("PORT", String(server.port)))}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("GIF_MEDIA_REFUSED");
    expect(seen.length).toBe(before);
  });

  test("a non-image answer, a redirect and a declared oversize are 502; a streamed oversize is cut", async () => {
    for (const kind of ["html", "redirect", "declared-big"]) {
      const r = await call(alice, `/api/gifs/media?url=${encodeURIComponent(`http://media0.giphy.com:${server.port}/media/${kind}/200.gif`)}`);
      expect({ kind, status: r.status, code: r.body?.error?.code }).toEqual({ kind, status: 502, code: "GIF_MEDIA_UNAVAILABLE" });
      expect(r.text).not.toContain("<script>");
    }
    const big = await ctx.request(`/api/gifs/media?url=${encodeURIComponent(`http://media0.giphy.com:${server.port}/media/streamed-big/200.gif`)}`, { headers: alice.headers });
    expect(big.status).toBe(200);
    let received = 0;
    const outcome = await big
      .arrayBuffer()
      .then((b) => ((received = b.byteLength), "complete"))
      .catch(() => "cut");
    expect(outcome === "cut" || received <= 4096).toBe(true);
    expect(received).toBeLessThanOrEqual(4096);
  });
});

test("the key is in no response and no log line", async () => {
  expect(responses.length).toBeGreaterThan(10);
  for (const text of responses) expect(text).not.toContain(KEY);
  expect(ctx.logs.length).toBeGreaterThan(0);
  for (const line of ctx.logs) expect(line).not.toContain(KEY);
});

test("key set: the composer has the GIF button; key unset: no button and every GIF route is 404", async () => {
  const owner = await client(ctx);
  const community = (await owner.call("POST", "/api/communities", { name: "Gif place" })).body as { id: string };
  const page = await channelPage(ctx, owner, community.id);
  expect(page).toContain("composer__gif");
  expect(page).not.toContain(KEY);

  const bob = await client(off);
  const other = (await bob.call("POST", "/api/communities", { name: "No gifs" })).body as { id: string };
  const plain = await channelPage(off, bob, other.id);
  expect(plain).toContain("composer__input");
  expect(plain).not.toContain("composer__gif");
  for (const path of ["/api/gifs/search?q=cat", "/api/gifs/trending", `/api/gifs/media?url=${encodeURIComponent(media)}`]) {
    const r = await off.request(path, { headers: bob.headers });
    expect({ path, status: r.status }).toEqual({ path, status: 404 });
  }
});
