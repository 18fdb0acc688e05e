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

/** Waits until `n` connected peer connections have received audio bytes; returns when (page clock). */
export async function waitAudioBytes(page: Page, n = 1, wait = { timeout: 60_000 }): Promise<number> {
  const handle = await page.waitForFunction(
    async (n) => {
      let withBytes = 0;
      for (const pc of (window as unknown as PcWindow).__pcs) {
        if (pc.connectionState !== "connected") continue;
        let bytes = 0;
        (await pc.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "audio") bytes += s.bytesReceived ?? 0;
        });
        if (bytes > 0) withBytes++;
      }
      return withBytes >= n ? performance.now() : 0;
    },
    n,
    { ...wait, polling: 50 },
  );
  return (await handle.jsonValue()) as number;
}
