// The SSRF-safe link-preview fetcher (issue 18 §3 acceptance, docs/integrations.md): every
// address class is refused — 127.0.0.1, 10.0.0.0/8, 169.254.169.254, [::1], [::ffff:127.0.0.1],
// decimal, octal, hex and short IPv4 forms, a name resolving to a private address, a redirect to
// one — and a DNS answer that changes between check and connect cannot redirect the connection
// (the checked IP is pinned). Slow and huge bodies are cut. Only servers on 127.0.0.1 are ever
// contacted: names come from an injected resolver, and the "allowed" cases inject a policy that
// admits exactly the loopback test server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "../../../src/errors.ts";
import { fetchPreviewPage, isCanonicalIPv4, isPublicAddress, parsePreview, type FetchPolicy } from "../../../src/features/link-previews/index.ts";

let server: ReturnType<typeof Bun.serve>;
let port = 0;
const seen: { path: string; host: string | null; cookie: string | null }[] = [];
let hugeBytesSent = 0;
const HUGE_TOTAL = 64 * 1024 * 1024;

const PAGE = `<!doctype html><html><head><title>Fallback title</title>
<meta property="og:title" content="Loopback &amp; friends"><meta property="og:description" content="A page on 127.0.0.1">
<meta property="og:site_name" content="Test"><meta property="og:image" content="/logo.png"></head><body>hi</body></html>`;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    fetch(req) {
      const url = new URL(req.url);
      seen.push({ path: url.pathname, host: req.headers.get("host"), cookie: req.headers.get("cookie") });
      const html = { "content-type": "text/html; charset=utf-8" };
      switch (url.pathname) {
        case "/page":
          return new Response(PAGE, { headers: html });
        case "/to-metadata":
          return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/", "set-cookie": "s=1" } });
        case "/to-private-name":
          return new Response(null, { status: 302, headers: { location: "http://internal.test/" } });
        case "/to-decimal":
          return new Response(null, { status: 301, headers: { location: `http://2130706433:${port}/page` } });
        case "/hop":
          return new Response(null, { status: 302, headers: { location: `/hop2`, "set-cookie": "session=abc; Path=/" } });
        case "/hop2":
          return new Response(null, { status: 302, headers: { location: `/page` } });
        case "/loop":
          return new Response(null, { status: 302, headers: { location: `/loop` } });
        case "/json":
          return Response.json({ title: "not html" });
        case "/slow":
          return new Response(
            new ReadableStream({
              start(controller) {
                controller.enqueue(new TextEncoder().encode("<html><head><title>slow"));
                // …and nothing more, ever (the fetcher's deadline must end it).
              },
            }),
            { headers: html },
          );
        case "/huge":
          hugeBytesSent = 0;
          return new Response(
            new ReadableStream({
              pull(controller) {
                if (hugeBytesSent >= HUGE_TOTAL) return controller.close();
                const chunk = new TextEncoder().encode(hugeBytesSent === 0 ? `<html><head><title>Huge</title></head><body>${"x".repeat(65_000)}` : "y".repeat(65_536));
                hugeBytesSent += chunk.length;
                controller.enqueue(chunk);
              },
            }),
            { headers: html },
          );
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  port = server.port!;
});
afterAll(() => server.stop(true));

/** Names the tests use; anything else is "does not exist". Never a real DNS query. */
function resolverOf(map: Record<string, string[]>, calls: string[] = []): FetchPolicy["resolve"] {
  return async (name) => {
    calls.push(name);
    const hit = map[name];
    if (!hit) throw new Error(`ENOTFOUND ${name}`);
    return hit;
  };
}

/** Admits exactly the loopback test server (127.0.0.1) — and nothing private or loopback else. */
const LOOPBACK_ONLY = (ip: string) => ip === "127.0.0.1";
const ANY_PORT = () => true;

async function refusal(url: string, policy: FetchPolicy = {}): Promise<string> {
  try {
    await fetchPreviewPage(url, { allowPort: ANY_PORT, resolve: resolverOf({}), ...policy });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  }
  throw new Error(`${url} was fetched`);
}

describe("addresses refused by the default policy (never contacted)", () => {
  const cases = [
    ["loopback", `http://127.0.0.1:${0}/page`],
    ["10.0.0.0/8", "http://10.0.0.1/"],
    ["10.255.255.255", "http://10.255.255.255/"],
    ["cloud metadata 169.254.169.254", "http://169.254.169.254/latest/meta-data/"],
    ["IPv6 loopback [::1]", "http://[::1]/"],
    ["IPv4-mapped IPv6 [::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]/"],
    ["IPv4-mapped IPv6 of a private address", "http://[::ffff:10.0.0.1]/"],
    ["decimal 2130706433", "http://2130706433/"],
    ["octal 0177.0.0.1", "http://0177.0.0.1/"],
    ["hex 0x7f.0x0.0x0.0x1", "http://0x7f.0x0.0x0.0x1/"],
    ["hex 0x7f000001", "http://0x7f000001/"],
    ["short 127.1", "http://127.1/"],
    ["octal 012.0.0.1 (10.0.0.1)", "http://012.0.0.1/"],
    ["CGNAT 100.64.0.1", "http://100.64.0.1/"],
    ["172.16.0.1", "http://172.16.0.1/"],
    ["192.168.1.1", "http://192.168.1.1/"],
    ["0.0.0.0", "http://0.0.0.0/"],
    ["multicast 224.0.0.1", "http://224.0.0.1/"],
    ["broadcast 255.255.255.255", "http://255.255.255.255/"],
    ["IPv6 unique local fd00::1", "http://[fd00::1]/"],
    ["IPv6 link-local fe80::1", "http://[fe80::1]/"],
    ["6to4 of 127.0.0.1", "http://[2002:7f00:1::]/"],
    ["NAT64 of 10.0.0.1", "http://[64:ff9b::a00:1]/"],
    ["localhost", "http://localhost/"],
  ] as const;
  for (const [label, url] of cases) {
    test(label, async () => {
      const before = seen.length;
      expect(await refusal(url.replace(":0/", `:${port}/`))).toBe("LINK_PREVIEW_REFUSED");
      expect(seen.length).toBe(before);
    });
  }

  test("a name resolving to a private address, and one with a private address among public ones", async () => {
    expect(await refusal("http://internal.test/", { resolve: resolverOf({ "internal.test": ["10.0.0.7"] }) })).toBe("LINK_PREVIEW_REFUSED");
    expect(await refusal("http://mixed.test/", { resolve: resolverOf({ "mixed.test": ["93.184.216.34", "192.168.0.2"] }) })).toBe("LINK_PREVIEW_REFUSED");
    expect(await refusal("http://v6.test/", { resolve: resolverOf({ "v6.test": ["::ffff:169.254.169.254"] }) })).toBe("LINK_PREVIEW_REFUSED");
    // An answer in an odd notation is not an address.
    expect(await refusal("http://odd.test/", { resolve: resolverOf({ "odd.test": ["0177.0.0.1"] }) })).toBe("LINK_PREVIEW_REFUSED");
  });

  test("other schemes, credentials and ports are refused", async () => {
    expect(await refusal("file:///etc/passwd")).toBe("LINK_PREVIEW_REFUSED");
    expect(await refusal("ftp://example.test/")).toBe("LINK_PREVIEW_REFUSED");
    expect(await refusal("http://user:pw@page.test/", { resolve: resolverOf({ "page.test": ["127.0.0.1"] }), allowAddress: LOOPBACK_ONLY })).toBe("LINK_PREVIEW_REFUSED");
    expect(await refusal("http://page.test:22/", { resolve: resolverOf({ "page.test": ["127.0.0.1"] }), allowAddress: LOOPBACK_ONLY, allowPort: undefined })).toBe("LINK_PREVIEW_REFUSED");
  });

  test("the address classifier: public addresses pass, canonical notation only", () => {
    for (const ip of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001::200e"]) expect(isPublicAddress(ip)).toBe(true);
    for (const ip of ["127.0.0.1", "10.1.1.1", "169.254.169.254", "::1", "::ffff:7f00:1", "::", "fe80::1", "ff02::1", "2001:db8::1", "2001::1", "192.0.2.1", "198.18.0.1", "not-an-ip", "fe80::1%eth0"]) expect(isPublicAddress(ip)).toBe(false);
    expect(isCanonicalIPv4("8.8.8.8")).toBe(true);
    expect(isCanonicalIPv4("08.8.8.8")).toBe(false);
  });
});

describe("fetches the policy admits (the loopback test server only)", () => {
  const policy = (extra: FetchPolicy = {}): FetchPolicy => ({ allowAddress: LOOPBACK_ONLY, allowPort: ANY_PORT, resolve: resolverOf({ "page.test": ["127.0.0.1"], "internal.test": ["10.0.0.9"] }), ...extra });

  test("a page: Host kept, title, description and image parsed", async () => {
    const page = await fetchPreviewPage(`http://page.test:${port}/page`, policy());
    expect(seen.at(-1)).toEqual({ path: "/page", host: `page.test:${port}`, cookie: null });
    const preview = await parsePreview(page.html, page.url);
    expect(preview).toEqual({ url: `http://page.test:${port}/page`, title: "Loopback & friends", description: "A page on 127.0.0.1", site_name: "Test", image_url: null }); // http image: dropped (https only)
  });

  test("redirects are followed (at most 3), each re-checked; no cookie is sent back", async () => {
    const page = await fetchPreviewPage(`http://page.test:${port}/hop`, policy());
    expect(page.url).toBe(`http://page.test:${port}/page`);
    expect(seen.slice(-3).map((s) => [s.path, s.cookie])).toEqual([["/hop", null], ["/hop2", null], ["/page", null]]);
    expect(await refusal(`http://page.test:${port}/loop`, policy())).toBe("LINK_PREVIEW_UNAVAILABLE");
  });

  test("a redirect to 169.254.169.254, to a name resolving private, or to a decimal loopback form is refused", async () => {
    expect(await refusal(`http://page.test:${port}/to-metadata`, policy())).toBe("LINK_PREVIEW_REFUSED");
    expect(await refusal(`http://page.test:${port}/to-private-name`, policy())).toBe("LINK_PREVIEW_REFUSED");
    // 2130706433 is 127.0.0.1: the policy admits it only by that address, so the URL parser's
    // normalisation is what lets the check see it (the default policy refuses it: above).
    const page = await fetchPreviewPage(`http://page.test:${port}/to-decimal`, policy());
    expect(page.url).toBe(`http://127.0.0.1:${port}/page`);
    expect(await refusal(`http://page.test:${port}/to-decimal`, policy({ allowAddress: (ip) => ip !== "127.0.0.1" && isPublicAddress(ip) }))).toBe("LINK_PREVIEW_REFUSED");
  });

  test("a DNS answer that changes between check and connect: the checked IP is the one connected to", async () => {
    const calls: string[] = [];
    let answers = 0;
    // First answer: the loopback test server (admitted). Any later answer: a private address.
    const rebinding: FetchPolicy["resolve"] = async (name) => {
      calls.push(name);
      return answers++ === 0 ? ["127.0.0.1"] : ["10.0.0.1"];
    };
    const page = await fetchPreviewPage(`http://rebind.test:${port}/page`, policy({ resolve: rebinding }));
    expect(calls).toEqual(["rebind.test"]); // resolved once; the connection used that answer
    expect(seen.at(-1)).toEqual({ path: "/page", host: `rebind.test:${port}`, cookie: null });
    expect((await parsePreview(page.html, page.url)).title).toBe("Loopback & friends");
    // And an answer that is private from the start is refused before any connection.
    answers = 1;
    const before = seen.length;
    expect(await refusal(`http://rebind.test:${port}/page`, policy({ resolve: rebinding }))).toBe("LINK_PREVIEW_REFUSED");
    expect(seen.length).toBe(before);
  });

  test("only HTML is read", async () => {
    expect(await refusal(`http://page.test:${port}/json`, policy())).toBe("LINK_PREVIEW_UNAVAILABLE");
  });

  test("a slow body is cut at the deadline", async () => {
    expect(await refusal(`http://page.test:${port}/slow`, policy({ timeoutMs: 500 }))).toBe("LINK_PREVIEW_UNAVAILABLE");
  });

  test("a huge body is cut at maxBytes and the rest is never read", async () => {
    const page = await fetchPreviewPage(`http://page.test:${port}/huge`, policy({ maxBytes: 64 * 1024 }));
    expect(page.truncated).toBe(true);
    expect(Buffer.byteLength(page.html)).toBeLessThanOrEqual(64 * 1024);
    expect((await parsePreview(page.html, page.url)).title).toBe("Huge");
    // The server stops once the fetcher cancels (what kernel and stream buffers took meanwhile aside).
    expect(hugeBytesSent).toBeLessThan(HUGE_TOTAL / 2);
  });
});
