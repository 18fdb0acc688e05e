#!/usr/bin/env bun
// Container health probe: GET /readyz on the local server (database reachable, migrations applied,
// Redis reachable when configured), exit 0 when it answers 200, else 1. Written in Bun so the
// image needs no curl. It reads LISTEN_ADDR itself (not src/config.ts): a probe must stay tiny
// and must not fail because some unrelated setting is invalid.
//
// Usage: bun scripts/healthcheck.ts [/path | URL]
//   /readyz (default)  ready to serve: what the image's HEALTHCHECK and compose.yml use
//   /livez             the process answers at all (a liveness probe: restart only when this fails)
//   a full URL         that URL

export const TIMEOUT_MS = 5_000;
export const DEFAULT_PATH = "/readyz";

/** Where to reach `path` on a server bound to LISTEN_ADDR from the same machine. */
export function healthUrl(listenAddr: string | undefined, path = DEFAULT_PATH): string {
  const addr = (listenAddr ?? "").trim() || "0.0.0.0:8080";
  // "[::1]:8080", "0.0.0.0:8080", ":8080", "8080"
  const match = /^(?:(?:\[([^\]]*)\]|([^:]*)):)?(\d+)$/.exec(addr);
  if (!match) throw new Error(`cannot read a port from LISTEN_ADDR=${addr}`);
  const host = match[1] ?? match[2] ?? "";
  const port = match[3];
  // A wildcard bind is reachable on loopback; a specific address only on itself.
  const wildcard = host === "" || host === "0.0.0.0" || host === "::";
  const target = wildcard ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${target}:${port}${path}`;
}

/** The URL the command line asks for: a path on the local server (default /readyz), or a full URL. */
export function targetUrl(arg: string | undefined, listenAddr: string | undefined): string {
  if (arg === undefined || arg.startsWith("/")) return healthUrl(listenAddr, arg ?? DEFAULT_PATH);
  return arg;
}

/** 0 when `url` answers 200 within `timeoutMs`, else 1 (with the reason on stderr). */
export async function probe(url: string, timeoutMs = TIMEOUT_MS): Promise<0 | 1> {
  try {
    // The timeout covers the body too: a server that sends headers and then stalls is unhealthy.
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await fetch(url, { signal });
    const body = await response.text();
    if (response.status === 200) return 0;
    console.error(`unhealthy: ${url} answered ${response.status} ${body.slice(0, 200)}`);
  } catch (error) {
    console.error(`unhealthy: ${url}: ${(error as Error).message}`);
  }
  return 1;
}

async function main(): Promise<number> {
  try {
    return await probe(targetUrl(process.argv[2], process.env.LISTEN_ADDR));
  } catch (error) {
    console.error(`unhealthy: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main());
