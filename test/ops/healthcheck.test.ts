// scripts/healthcheck.ts is the container's HEALTHCHECK: exit 0 only for a 200 from /readyz
// (or the path it is given: /livez).
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { TIMEOUT_MS, healthUrl, probe as probeUrl, targetUrl } from "../../scripts/healthcheck.ts";
import { repoRoot } from "./helpers.ts";

let status = 200;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/hang") return new Promise<Response>(() => {}); // never answers
    // Alive whatever the dependencies; ready only while `status` says so.
    if (path === "/livez") return Response.json({ status: "alive" });
    if (path !== "/readyz") return new Response("not found", { status: 404 });
    return Response.json({ status: status === 200 ? "ready" : "not_ready" }, { status });
  },
});
afterAll(() => server.stop(true));

async function probe(env: Record<string, string>, args: string[] = []) {
  // Async spawn: the stub server lives in this process and must keep answering meanwhile.
  const child = Bun.spawn(["bun", join(repoRoot, "scripts/healthcheck.ts"), ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await child.exited;
  return { code, stderr: await new Response(child.stderr).text() };
}

describe("healthUrl", () => {
  test.each([
    [undefined, "http://127.0.0.1:8080/readyz"],
    ["0.0.0.0:8080", "http://127.0.0.1:8080/readyz"],
    ["[::]:9000", "http://127.0.0.1:9000/readyz"],
    [":8081", "http://127.0.0.1:8081/readyz"],
    ["8082", "http://127.0.0.1:8082/readyz"],
    ["127.0.0.1:3000", "http://127.0.0.1:3000/readyz"],
    ["10.0.0.5:8080", "http://10.0.0.5:8080/readyz"],
    ["[::1]:8080", "http://[::1]:8080/readyz"],
  ])("LISTEN_ADDR=%p -> %s", (addr, url) => {
    expect(healthUrl(addr)).toBe(url);
  });

  test("rejects an address without a port", () => {
    expect(() => healthUrl("example.org:http")).toThrow("LISTEN_ADDR");
  });

  test("the argument is a path on the local server or a full URL", () => {
    expect(targetUrl(undefined, "0.0.0.0:8080")).toBe("http://127.0.0.1:8080/readyz");
    expect(targetUrl("/livez", "0.0.0.0:8080")).toBe("http://127.0.0.1:8080/livez");
    expect(targetUrl("http://10.0.0.5:9000/readyz", "0.0.0.0:8080")).toBe("http://10.0.0.5:9000/readyz");
  });
});

describe("healthcheck.ts", () => {
  test("exits 0 when /readyz answers 200 on the LISTEN_ADDR port", async () => {
    status = 200;
    expect((await probe({ LISTEN_ADDR: `0.0.0.0:${server.port}` })).code).toBe(0);
  });

  test("exits 1 when the server is not ready (503); /livez still passes", async () => {
    status = 503;
    const r = await probe({ LISTEN_ADDR: `127.0.0.1:${server.port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("503");
    expect((await probe({ LISTEN_ADDR: `127.0.0.1:${server.port}` }, ["/livez"])).code).toBe(0);
  });

  test("exits 1 when nothing listens", async () => {
    const r = await probe({ LISTEN_ADDR: "127.0.0.1:1" });
    expect(r.code).toBe(1);
  });

  test("exits 1 when LISTEN_ADDR has no port", async () => {
    const r = await probe({ LISTEN_ADDR: "localhost" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("LISTEN_ADDR");
  });

  test("gives up after its timeout (5 s in the container)", async () => {
    expect(TIMEOUT_MS).toBe(5_000);
    const started = performance.now();
    expect(await probeUrl(`http://127.0.0.1:${server.port}/hang`, 300)).toBe(1);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(250);
    expect(elapsed).toBeLessThan(3_000);
  });
});
