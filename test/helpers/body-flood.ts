/**
 * The body flood of the security review (issue 10, finding 2), shared by
 * test/process/body-flood.test.ts and scripts/bench/body-flood.ts: N concurrent requests of
 * `bytes` each from one client (127.0.0.1), half with a declared Content-Length and half chunked,
 * spread over routes that parse bodies before authentication on an unprotected server, while
 * another client (127.0.0.2) keeps making ordinary requests. The server's RSS is sampled from /proc
 * the whole time. Bodies are generated as they are sent: the client never holds one.
 */
import { residentBytesOf, sendGeneratedBody } from "./raw-http.ts";

export type FloodTarget = { method: string; path: string; headers?: Record<string, string> };

/** Routes an anonymous client can post to: public JSON and form, a signed-in JSON route, the largest budget, a 404. */
export const FLOOD_TARGETS: FloodTarget[] = [
  { method: "POST", path: "/api/auth/login", headers: { "content-type": "application/json" } },
  { method: "POST", path: "/api/channels/0190f0f0-0000-7000-8000-000000000000/messages", headers: { "content-type": "application/json" } },
  { method: "PUT", path: "/api/keys/backup", headers: { "content-type": "application/json" } },
  { method: "POST", path: "/login", headers: { "content-type": "application/x-www-form-urlencoded" } },
  { method: "POST", path: "/api/no-such-route", headers: { "content-type": "application/json" } },
];

export type FloodReport = {
  baselineBytes: number;
  peakBytes: number;
  afterBytes: number;
  /** "413 declared" -> count; "no response" when the connection closed without one. */
  outcomes: Record<string, number>;
  /** Statuses of the other client's requests made while the flood was running. */
  legitStatuses: number[];
  /** Ordinary requests sent while flood requests were still open. */
  legitDuringFlood: number;
  /** True if the flood was stopped early because RSS grew past `stopAtGrowthBytes`. */
  stoppedEarly: boolean;
};

/** One ordinary request from another client: GET /health from 127.0.0.2. */
async function legitRequest(baseUrl: string): Promise<number> {
  const { response } = await sendGeneratedBody(baseUrl, { method: "GET", path: "/health", bytes: 0, chunked: false, localAddress: "127.0.0.2", timeoutMs: 60_000 });
  return response?.status ?? 0;
}

export async function runBodyFlood(
  baseUrl: string,
  serverPid: number,
  opts: { requests: number; bytes: number; stopAtGrowthBytes: number; targets?: FloodTarget[]; sampleMs?: number },
): Promise<FloodReport> {
  const targets = opts.targets ?? FLOOD_TARGETS;
  // Warm the refusal paths from a third address (its own rate-limit bucket), so code loaded on
  // first use is in the baseline and not counted as flood growth.
  for (const target of targets) {
    for (const chunked of [false, true]) await sendGeneratedBody(baseUrl, { ...target, bytes: 1024 * 1024, chunked, localAddress: "127.0.0.3", timeoutMs: 60_000 });
  }
  await legitRequest(baseUrl);
  const baselineBytes = await residentBytesOf(serverPid);
  let peakBytes = baselineBytes;
  let stoppedEarly = false;
  const stop = new AbortController();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rss = await residentBytesOf(serverPid).catch(() => 0);
      peakBytes = Math.max(peakBytes, rss);
      // A regression must not take the machine down with it: stop the flood once it has failed.
      if (rss - baselineBytes > opts.stopAtGrowthBytes && !stop.signal.aborted) {
        stoppedEarly = true;
        stop.abort();
      }
      await Bun.sleep(opts.sampleMs ?? 20);
    }
  })();

  let open = opts.requests;
  const outcomes: Record<string, number> = {};
  const flood = Array.from({ length: opts.requests }, async (_, i) => {
    const target = targets[i % targets.length]!;
    const chunked = i % 2 === 1;
    const { response } = await sendGeneratedBody(baseUrl, { ...target, bytes: opts.bytes, chunked, localAddress: "127.0.0.1", signal: stop.signal, timeoutMs: 300_000 });
    const key = `${response ? response.status : "no response"} ${chunked ? "chunked" : "declared"} ${target.method} ${target.path}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    open--;
  });
  const legitStatuses: number[] = [];
  let legitDuringFlood = 0;
  const ordinary = async () => {
    const during = open > 0;
    legitStatuses.push(await legitRequest(baseUrl));
    if (during) legitDuringFlood++;
  };
  // A few sent together with the flood, then one after another for as long as it lasts (bounded).
  const legit = [
    ...Array.from({ length: 4 }, ordinary),
    (async () => {
      for (let i = 0; i < 200 && open > 0; i++) await ordinary();
    })(),
  ];
  await Promise.all([...flood, ...legit]);
  sampling = false;
  await sampler;
  const afterBytes = await residentBytesOf(serverPid);
  return { baselineBytes, peakBytes, afterBytes, outcomes, legitStatuses, legitDuringFlood, stoppedEarly };
}

export function describeFlood(report: FloodReport): string {
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  const lines = [
    `RSS before ${mib(report.baselineBytes)}, peak ${mib(report.peakBytes)} (growth ${mib(report.peakBytes - report.baselineBytes)}), after ${mib(report.afterBytes)}${report.stoppedEarly ? " — flood STOPPED EARLY at the growth limit" : ""}`,
    `other client: ${report.legitStatuses.length} requests (${report.legitDuringFlood} during the flood), statuses ${JSON.stringify(countOf(report.legitStatuses))}`,
    ...Object.entries(report.outcomes)
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`),
  ];
  return lines.join("\n");
}

function countOf(xs: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
