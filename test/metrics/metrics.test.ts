/**
 * Prometheus metrics (src/metrics/, docs/operations.md "Metrics") on real servers:
 *  1. the app listening on a port, GET /metrics behind METRICS_TOKEN: refusals carry a code; under
 *     a scripted load (HTTP sends and reads, WebSocket message:send frames, a 404, a scheduled
 *     delivery, a job pass) the counters and histograms move, by route TEMPLATE, and no id ever
 *     appears in a label; `promtool check metrics` accepts the output;
 *  2. a real process with METRICS_ADDR: the public address does not serve /metrics at all, the
 *     metrics listener serves it (with the token when one is set) and nothing else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "../helpers/app.ts";
import { listen } from "../helpers/ws.ts";
import { spawnHearth, type HearthProcess } from "../helpers/process.ts";
import { deliverScheduledMessages, startMessageJobs } from "../../src/features/messages/index.ts";
import { encodingsOf } from "../helpers/plaintext-scan.ts";
import { envelope, messagingContext, populatedCommunity, sendBody, socketFor, subscribe, TEST_DEVICE_ID, type Populated } from "../features/messages/helpers.ts";

const PROMTOOL = Bun.which("promtool");
if (!PROMTOOL) console.log("skip: promtool check metrics: promtool is not installed (Debian's prometheus package ships it)");

const TOKEN = "metrics-test-token-0123456789abcdef";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

type Series = { name: string; labels: Record<string, string>; value: number };

/** The samples of a text exposition (comments skipped). */
function parseExposition(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `match`. */
function total(series: Series[], name: string, match: Record<string, string> = {}): number {
  return series.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

function has(series: Series[], name: string): boolean {
  return series.some((s) => s.name === name);
}

async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const p = Bun.spawn([PROMTOOL!, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, output: (out + err).trim() };
}

describe("GET /metrics on the public address, behind METRICS_TOKEN", () => {
  let ctx: TestContext;
  let p: Populated;
  let http: string;
  let ws: string;
  beforeAll(async () => {
    ctx = await messagingContext({ env: { METRICS_TOKEN: TOKEN } });
    p = await populatedCommunity(ctx);
    ({ http, ws } = await listen(ctx));
  });
  afterAll(() => ctx?.close());

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return res.text();
  };

  test("refuses without the token (401 METRICS_TOKEN_REQUIRED) and with another (401 METRICS_TOKEN_INVALID)", async () => {
    const none = await fetch(`${http}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe("METRICS_TOKEN_REQUIRED");
    const basic = await fetch(`${http}/metrics`, { headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` } });
    expect(((await basic.json()) as any).error.code).toBe("METRICS_TOKEN_REQUIRED");
    const wrong = await fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const body = await wrong.text();
    expect(JSON.parse(body).error.code).toBe("METRICS_TOKEN_INVALID");
    expect(body).not.toContain("hearth_");
  });

  test("counters and histograms move under a scripted load, labelled by route template, never by id", async () => {
    const channel = p.generalChannelId;
    const before = parseExposition(await scrape());

    // A listener on the channel, and a sender over the WebSocket.
    const listener = await socketFor(ctx, p.member, ws);
    await subscribe(listener, [channel]);
    const sender = await socketFor(ctx, p.admin, ws);
    const HTTP_SENDS = 5;
    const WS_SENDS = 3;
    const ciphertexts: string[] = [];
    for (let i = 0; i < HTTP_SENDS; i++) {
      const body = sendBody();
      ciphertexts.push(body.ciphertext);
      const res = await fetch(`${http}/api/channels/${channel}/messages`, { method: "POST", headers: p.owner.headers, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < WS_SENDS; i++) {
      const ciphertext = envelope();
      ciphertexts.push(ciphertext);
      sender.send({ type: "message:send", ref: `m${i}`, channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext, senderDeviceId: TEST_DEVICE_ID });
      expect((await sender.nextOfType("message:sent")).ref).toBe(`m${i}`);
    }
    for (let i = 0; i < HTTP_SENDS + WS_SENDS; i++) expect((await listener.nextOfType("message:new")).type).toBe("message:new");
    const history = await fetch(`${http}/api/channels/${channel}/messages`, { headers: p.member.headers });
    expect(history.status).toBe(200);
    // An id-addressed route that answers 404, and a path no route matches.
    expect((await fetch(`${http}/api/channels/${crypto.randomUUID()}/messages`, { headers: p.outsider.headers })).status).toBe(404);
    expect((await fetch(`${http}/no/such/${crypto.randomUUID()}`, { headers: { accept: "application/json" } })).status).toBe(404);
    // A scheduled message delivered 30 s after its send_at (the job's clock is passed in), and one pass of the job loop.
    const sendAt = new Date(Date.now() + 60_000);
    const scheduled = await fetch(`${http}/api/channels/${channel}/scheduled`, { method: "POST", headers: p.owner.headers, body: JSON.stringify({ ...sendBody(), send_at: sendAt.toISOString() }) });
    expect(scheduled.status).toBe(201);
    expect(await deliverScheduledMessages(ctx.deps, new Date(sendAt.getTime() + 30_000))).toEqual({ sent: 1, failed: 0 });
    const stopJobs = startMessageJobs(ctx.deps, 20);
    let jobs = parseExposition(await scrape());
    for (let i = 0; i < 100 && total(jobs, "hearth_job_runs_total", { job: "message_jobs", outcome: "ok" }) <= total(before, "hearth_job_runs_total", { job: "message_jobs", outcome: "ok" }); i++) {
      await Bun.sleep(100);
      jobs = parseExposition(await scrape());
    }
    await stopJobs();

    const text = await scrape();
    const after = parseExposition(text);
    const delta = (name: string, match: Record<string, string> = {}) => total(after, name, match) - total(before, name, match);
    const sends = { method: "POST", route: "/api/channels/:id/messages" };

    expect(delta("hearth_http_requests_total", { ...sends, status: "201" })).toBe(HTTP_SENDS);
    expect(delta("hearth_http_request_duration_seconds_count", sends)).toBe(HTTP_SENDS);
    expect(delta("hearth_http_request_duration_seconds_sum", sends)).toBeGreaterThan(0);
    expect(delta("hearth_http_request_duration_seconds_bucket", { ...sends, le: "+Inf" })).toBe(HTTP_SENDS);
    expect(delta("hearth_http_requests_total", { method: "GET", route: "/api/channels/:id/messages", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(delta("hearth_http_requests_total", { method: "GET", route: "/api/channels/:id/messages", status: "404" })).toBe(1);
    expect(delta("hearth_http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    // The WebSocket upgrades went through the pipeline too.
    expect(delta("hearth_http_requests_total", { method: "GET", route: "/ws" })).toBeGreaterThanOrEqual(2);

    // HTTP, WebSocket and the scheduled delivery all count as sent messages.
    // (At least: the counters are per process, and bun runs every test file in this one.)
    expect(delta("hearth_messages_sent_total", { scheme: "sk" })).toBeGreaterThanOrEqual(HTTP_SENDS + WS_SENDS + 1);
    expect(delta("hearth_ws_frames_received_total", { type: "message:send" })).toBeGreaterThanOrEqual(WS_SENDS);
    expect(delta("hearth_ws_frames_received_total", { type: "subscribe" })).toBeGreaterThanOrEqual(1);
    expect(delta("hearth_ws_connections_total")).toBeGreaterThanOrEqual(2);
    expect(total(after, "hearth_ws_open_sockets")).toBeGreaterThanOrEqual(2);
    // Every message:new (and more: activity, read state) went through the hub's fan-out.
    expect(delta("hearth_fanout_duration_seconds_count")).toBeGreaterThanOrEqual(HTTP_SENDS + WS_SENDS + 1);
    expect(delta("hearth_db_query_duration_seconds_count", { outcome: "ok" })).toBeGreaterThan(HTTP_SENDS + WS_SENDS);
    // Transactions wait for a connection of their own on PostgreSQL only (PGlite has no pool).
    if (ctx.database.kind === "postgres") expect(delta("hearth_db_pool_wait_seconds_count")).toBeGreaterThan(0);
    else expect(delta("hearth_db_pool_wait_seconds_count")).toBe(0);
    expect(delta("hearth_job_lag_seconds_count", { job: "scheduled_messages" })).toBe(1);
    expect(delta("hearth_job_lag_seconds_sum", { job: "scheduled_messages" })).toBe(30);
    expect(delta("hearth_job_runs_total", { job: "message_jobs", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(total(after, "hearth_job_last_success_timestamp_seconds", { job: "message_jobs" })).toBeGreaterThan(0);
    expect(has(after, "nodejs_eventloop_lag_p99_seconds")).toBe(true);
    expect(has(after, "process_cpu_seconds_total")).toBe(true);

    // No id, name, content or path with an id in any label: routes are templates.
    expect(text).not.toMatch(UUID);
    for (const c of [p.owner, p.admin, p.member]) for (const { label, bytes } of encodingsOf(c.user.username)) expect({ label, found: text.includes(bytes.toString()) }).toEqual({ label, found: false });
    for (const c of ciphertexts) expect(text).not.toContain(c.slice(0, 16));
    const routes = new Set(after.filter((s) => s.name === "hearth_http_requests_total").map((s) => s.labels.route!));
    for (const route of routes) expect(route === "unmatched" || /^\/[A-Za-z0-9_\-/:.*]*$/.test(route)).toBe(true);
    listener.close();
    sender.close();
  });

  test.skipIf(!PROMTOOL)("promtool check metrics accepts the output", async () => {
    const text = await scrape();
    expect(text).toContain("hearth_http_requests_total");
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });
});

describe("METRICS_ADDR: a real process serves /metrics on its own listener only", () => {
  let dataDir: string;
  let hearth: HearthProcess;
  let base: string;
  let metricsBase: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "hearth-metrics-"));
    hearth = spawnHearth({ env: { NODE_ENV: "test", LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, METRICS_ADDR: "127.0.0.1:0", METRICS_TOKEN: TOKEN, LOG_LEVEL: "info" } });
    base = await hearth.ready();
    const m = /"msg":"metrics\.listening"[^\n]*"address":"([^"]+)"/.exec(hearth.output());
    expect(m).not.toBeNull();
    metricsBase = `http://${m![1]}`;
  });
  afterAll(async () => {
    await hearth?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("the public address answers 404 for /metrics, with the token too; the probes are there", async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const res = await fetch(`${base}/metrics`, { headers });
      expect(res.status).toBe(404);
      const body = await res.text();
      expect(JSON.parse(body).error.code).toBe("NOT_FOUND");
      expect(body).not.toContain("hearth_");
    }
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", migrations: "ok" } });
  });

  test("the metrics listener wants the token and serves nothing but GET /metrics", async () => {
    expect(metricsBase).not.toBe(base);
    const none = await fetch(`${metricsBase}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe("METRICS_TOKEN_REQUIRED");
    expect(none.headers.get("x-content-type-options")).toBe("nosniff");
    const other = await fetch(`${metricsBase}/api/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(other.status).toBe(404);
    expect(((await other.json()) as any).error.code).toBe("NOT_FOUND");
    const post = await fetch(`${metricsBase}/metrics`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(post.status).toBe(404);
    await post.arrayBuffer();
  });

  test("it counts the public address's requests by route", async () => {
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    const res = await fetch(`${metricsBase}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const series = parseExposition(await res.text());
    expect(total(series, "hearth_http_requests_total", { method: "GET", route: "/api/health", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(total(series, "hearth_http_requests_total", { method: "GET", route: "/metrics", status: "404" })).toBeGreaterThanOrEqual(2);
  });

  test.skipIf(!PROMTOOL)("promtool check metrics accepts the process's output", async () => {
    const text = await (await fetch(`${metricsBase}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(text).toContain("process_cpu_seconds_total");
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });
});
