/**
 * Prometheus metrics of this process (prom-client, docs/decisions/0006-metrics.md). One registry
 * per process, filled by small hooks where the work happens (HTTP pipeline, hub, send path,
 * database driver, jobs) and read by GET /metrics (routes.ts) or the METRICS_ADDR listener
 * (server.ts). Every metric is listed in docs/operations.md, "Metrics".
 *
 * Labels are bounded by construction: route TEMPLATES (never raw paths), a fixed set of methods,
 * numeric statuses, frame types from the protocol catalogue, job names from this code. Never a
 * user, channel, session or any other id.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export const registry = new Registry();

// Process and runtime: CPU, memory, open file descriptors, event-loop lag (monitorEventLoopDelay,
// which Bun implements). Unprefixed, the names dashboards for Node/Bun processes expect.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
// Dropped: three gauges whose names end in _total (promtool's lint refuses them: only counters
// may), and V8 heap spaces, which Bun's JavaScriptCore reports as zeros.
for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total", "nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"]) {
  registry.removeSingleMetric(name);
}

const registers = [registry];

// ------------------------------------------------------------------------------ HTTP

const httpRequests = new Counter({
  name: "hearth_http_requests_total",
  help: "HTTP requests answered, by method, route template and status",
  labelNames: ["method", "route", "status"] as const,
  registers,
});
const httpDuration = new Histogram({
  name: "hearth_http_request_duration_seconds",
  help: "Time from the request's arrival to the response being handed to the server, by method and route template",
  labelNames: ["method", "route"] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** The label for a request that matched no route (404s, and refusals before routing such as 429). */
export const UNMATCHED_ROUTE = "unmatched";

/** One answered request. `route` is the router's template ("/api/channels/:id/messages"), or empty when none matched. */
export function observeHttpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
  const labels = { method: METHODS.has(method) ? method : "OTHER", route: route || UNMATCHED_ROUTE };
  httpRequests.inc({ ...labels, status: Number.isInteger(status) && status >= 100 && status <= 599 ? status : 0 });
  httpDuration.observe(labels, seconds);
}

// ------------------------------------------------------------------------------ WebSocket

const openSockets = new Gauge({
  name: "hearth_ws_open_sockets",
  help: "Authenticated WebSocket connections held by this process",
  registers,
});
const socketsAdmitted = new Counter({
  name: "hearth_ws_connections_total",
  help: "WebSocket connections admitted (authenticated and registered) by this process",
  registers,
});
const framesReceived = new Counter({
  name: "hearth_ws_frames_received_total",
  help: "Valid client frames received, by frame type",
  labelNames: ["type"] as const,
  registers,
});
const fanoutDuration = new Histogram({
  name: "hearth_fanout_duration_seconds",
  help: "Time to serialise one published event and deliver it to this process's subscribed sockets (and hand it to Redis when configured)",
  buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
  registers,
});

export function noteSocketAdmitted(): void {
  openSockets.inc();
  socketsAdmitted.inc();
}

export function noteSocketReleased(): void {
  openSockets.dec();
}

/** `type` is a frame type of the protocol catalogue (the frame was validated). */
export function noteFrameReceived(type: string): void {
  framesReceived.inc({ type });
}

export function observeFanout(seconds: number): void {
  fanoutDuration.observe(seconds);
}

// ------------------------------------------------------------------------------ Messages

const messagesSent = new Counter({
  name: "hearth_messages_sent_total",
  help: "Messages stored and published (HTTP, WebSocket and scheduled sends), by encryption scheme",
  labelNames: ["scheme"] as const,
  registers,
});

export function noteMessageSent(scheme: string): void {
  messagesSent.inc({ scheme: scheme === "sk" || scheme === "pw" ? scheme : "other" });
}

// ------------------------------------------------------------------------------ Database

const dbQueries = new Histogram({
  name: "hearth_db_query_duration_seconds",
  help: "Database statement latency as Kysely sees it (queue wait for a pool connection included), by outcome",
  labelNames: ["outcome"] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});
const poolWait = new Histogram({
  name: "hearth_db_pool_wait_seconds",
  help: "PostgreSQL only: time a transaction waited for a connection of its own from the pool",
  buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers,
});

/** Kysely's `log` hook: every statement's duration, successful or not. */
export function observeDbQuery(event: { level: "query" | "error"; queryDurationMillis: number }): void {
  dbQueries.observe({ outcome: event.level === "query" ? "ok" : "error" }, event.queryDurationMillis / 1000);
}

export function observePoolWait(seconds: number): void {
  poolWait.observe(seconds);
}

// ------------------------------------------------------------------------------ Jobs

/** The background jobs (label values). */
export type JobName = "message_jobs" | "scheduled_messages" | "auth_housekeeping" | "mail_outbox";

const jobRuns = new Counter({
  name: "hearth_job_runs_total",
  help: "Background job runs, by job and outcome",
  labelNames: ["job", "outcome"] as const,
  registers,
});
const jobDuration = new Histogram({
  name: "hearth_job_duration_seconds",
  help: "Duration of one background job run",
  labelNames: ["job"] as const,
  buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300],
  registers,
});
const jobLastSuccess = new Gauge({
  name: "hearth_job_last_success_timestamp_seconds",
  help: "Unix time of the job's last successful run in this process (alert on time() minus this)",
  labelNames: ["job"] as const,
  registers,
});
const jobLag = new Histogram({
  name: "hearth_job_lag_seconds",
  help: "How late work ran after it was due: a scheduled message's delivery after its send_at",
  labelNames: ["job"] as const,
  buckets: [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 900, 3600],
  registers,
});

const mailOutboxDepth = new Gauge({
  name: "hearth_mail_outbox_depth",
  help: "Mails waiting in the outbox (not yet sent, not failed), as of this process's last outbox pass",
  registers,
});

export function setMailOutboxDepth(depth: number): void {
  mailOutboxDepth.set(depth);
}

/** Runs one job pass and records its outcome and duration (the error is rethrown). */
export async function timeJob<T>(job: JobName, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await run();
    jobRuns.inc({ job, outcome: "ok" });
    jobLastSuccess.set({ job }, Date.now() / 1000);
    return result;
  } catch (error) {
    jobRuns.inc({ job, outcome: "error" });
    throw error;
  } finally {
    jobDuration.observe({ job }, (performance.now() - started) / 1000);
  }
}

export function observeJobLag(job: JobName, seconds: number): void {
  jobLag.observe({ job }, Math.max(0, seconds));
}

// ------------------------------------------------------------------------------ Exposition

export const METRICS_CONTENT_TYPE = registry.contentType;

/** The text exposition format (what Prometheus scrapes). */
export function renderMetrics(): Promise<string> {
  return registry.metrics();
}
