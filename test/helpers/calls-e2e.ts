// Browser call helpers shared by the call tests and the call bench (test/e2e/calls*.test.ts,
// scripts/bench/calls-browser.ts): every RTCPeerConnection a page makes is kept on `window.__pcs`
// (an init script), with when each first connected and when audio bytes first arrived.
import type { Page } from "playwright-core";

export type PcWindow = { __pcs: RTCPeerConnection[]; __connectedAt: number[] };

/** Init script: keeps every RTCPeerConnection (for getStats) and when it first connected. */
export function recordPeerConnections(): void {
  const w = window as unknown as PcWindow & { RTCPeerConnection: typeof RTCPeerConnection };
  const Original = w.RTCPeerConnection;
  w.__pcs = [];
  w.__connectedAt = [];
  w.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.__pcs.push(this);
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") w.__connectedAt.push(performance.now());
      });
    }
  };
}

/** Waits until `n` of the page's peer connections are connected; on timeout, says what they are. */
export async function waitConnected(page: Page, n = 1, wait = { timeout: 60_000 }): Promise<void> {
  await page.waitForFunction((n) => (window as unknown as PcWindow).__pcs.filter((pc) => pc.connectionState === "connected").length >= n, n, wait).catch(async (error) => {
    const detail = await page.evaluate(() => ({
      pcs: (window as unknown as PcWindow).__pcs.map((pc) => `${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}`),
      dock: document.querySelector("#voice-dock")?.textContent,
    }));
    throw new Error(`${n} connected wanted: ${JSON.stringify(detail)} ${error}`);
  });
}

/** inbound-rtp audio bytes of each connected peer connection. */
export function inboundAudioBytes(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const out: number[] = [];
    for (const pc of (window as unknown as PcWindow).__pcs) {
      if (pc.connectionState !== "connected") continue;
      let n = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") n += s.bytesReceived ?? 0;
      });
      out.push(n);
    }
    return out;
  });
}

/**
 * Waits until `n` connected peer connections have received audio bytes; returns when (the page's
 * clock). The loop runs in the page (an async predicate of waitForFunction is not awaited: its
 * promise counts as a truthy answer at once).
 */
export async function waitAudioBytes(page: Page, n = 1, wait = { timeout: 60_000 }): Promise<number> {
  const at = await page.evaluate(
    async ([n, timeout]) => {
      const deadline = performance.now() + timeout;
      while (performance.now() < deadline) {
        let withBytes = 0;
        for (const pc of (window as unknown as PcWindow).__pcs) {
          if (pc.connectionState !== "connected") continue;
          let bytes = 0;
          (await pc.getStats()).forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "audio") bytes += s.bytesReceived ?? 0;
          });
          if (bytes > 0) withBytes++;
        }
        if (withBytes >= n) return performance.now();
        await new Promise((r) => setTimeout(r, 20));
      }
      return -1;
    },
    [n, wait.timeout] as const,
  );
  if (at < 0) throw new Error(`no audio bytes on ${n} peer connections within ${wait.timeout} ms`);
  return at;
}

/** Init script: like recordPeerConnections, and every peer connection is forced to relay candidates only. */
export function recordRelayOnlyPeerConnections(): void {
  const w = window as unknown as PcWindow & { RTCPeerConnection: typeof RTCPeerConnection };
  const Original = w.RTCPeerConnection;
  w.__pcs = [];
  w.__connectedAt = [];
  w.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super({ ...config, iceTransportPolicy: "relay" });
      w.__pcs.push(this);
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") w.__connectedAt.push(performance.now());
      });
    }
    override setConfiguration(config?: RTCConfiguration): void {
      super.setConfiguration({ ...config, iceTransportPolicy: "relay" });
    }
  };
}

/**
 * coturn on loopback with compose.yml's flags except the loopback denials, listening and relaying
 * on 127.0.0.1, with `use-auth-secret` = `secret`; answers a STUN Binding before this returns.
 */
export async function startLoopbackCoturn(secret: string): Promise<{ port: number; stop(): Promise<void> }> {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { coturnArgs, message, runTurnInit, StunClient } = await import("../ops/coturn.ts");
  const { freePort } = await import("../ops/helpers.ts");
  const work = mkdtempSync(join(tmpdir(), "hearth-coturn-"));
  const certs = join(work, "certs");
  const init = runTurnInit(certs, { HAS_TURN_AUTH_SECRET: "yes", TURN_EXTERNAL_IP: "127.0.0.1" });
  if (init.code !== 0) throw new Error(`turn-init failed: ${init.out}`);
  const port = freePort();
  const args = coturnArgs(secret, certs, port, freePort()).filter((a) => a !== "--denied-peer-ip=127.0.0.1" && a !== "--denied-peer-ip=127.0.0.0-127.255.255.255");
  const coturn = Bun.spawn(["turnserver", ...args, "--allow-loopback-peers", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", `--pidfile=${join(work, "turnserver.pid")}`], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let output = "";
  void new Response(coturn.stdout as ReadableStream).text().then((t) => (output += t));
  void new Response(coturn.stderr as ReadableStream).text().then((t) => (output += t));
  const stop = async () => {
    coturn.kill("SIGTERM");
    await Promise.race([coturn.exited, Bun.sleep(3000)]);
    if (coturn.exitCode === null) coturn.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const probe = await StunClient.open(port, () => output);
    try {
      const answer = await probe.request(message(0x0001, []));
      if (answer.type !== 0x0101) throw new Error(`coturn answered a Binding with ${answer.type}: ${output}`);
    } finally {
      probe.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
