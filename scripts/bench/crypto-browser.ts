// E2EE figures in Chromium (the library as the browser runs it: the built e2ee.js bundle):
// median encrypt+decrypt of a 1 KiB message (Double Ratchet and Sender Keys) and attachment
// encryption/decryption throughput. performance.now() is coarsened in a page that is not
// cross-origin isolated (100 µs steps), so each sample times a batch and divides.
// Run: bun scripts/bench/crypto-browser.ts   (also printed by test/e2e/e2ee-keys.test.ts)
import type { Page } from "playwright-core";

export type BrowserCryptoFigures = {
  ratchetMicros: number;
  ratchetTurnMicros: number;
  senderKeyMicros: number;
  attachmentEncryptMBps: number;
  attachmentDecryptMBps: number;
  attachmentMiB: number;
};

/** Runs in a page that can import the bundle at `bundleUrl` (same origin, CSP script-src 'self'). */
export async function benchInPage(page: Page, bundleUrl: string, attachmentMiB = 64): Promise<BrowserCryptoFigures> {
  return page.evaluate(
    async ({ bundleUrl, attachmentMiB }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const lib: any = await import(bundleUrl);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const batched = (batches: number, perBatch: number, run: () => void) => {
        for (let i = 0; i < perBatch; i++) run(); // warm-up
        const samples: number[] = [];
        for (let b = 0; b < batches; b++) {
          const start = performance.now();
          for (let i = 0; i < perBatch; i++) run();
          samples.push(((performance.now() - start) / perBatch) * 1000);
        }
        return median(samples);
      };
      const now = Date.now();
      const a = lib.createDeviceIdentity({ userId: "bench-a", deviceId: "a1", now });
      const b = lib.createDeviceIdentity({ userId: "bench-b", deviceId: "b1", now });
      const pub = lib.exportDevicePublicBundle(b);
      const bundle = { userId: "bench-b", deviceId: "b1", signingKey: pub.signingKey, identityKey: pub.identityKey, signedPrekey: pub.signedPrekey, oneTimePrekey: pub.oneTimePrekeys[0] };
      const session = lib.startSessionAsInitiator(a, bundle);
      const first = lib.encryptRatchetMessage(session.ratchet, new Uint8Array(1));
      const accepted = lib.acceptSessionAsResponder(b, { userId: "bench-a", deviceId: "a1" }, first.message);
      const alice = session.ratchet;
      const bob = accepted.session.ratchet;
      const message = lib.randomBytes(1024);
      const ratchetMicros = batched(30, 50, () => void lib.decryptRatchetMessage(bob, lib.encryptRatchetMessage(alice, message).message));
      let turn = 0;
      const ratchetTurnMicros = batched(30, 20, () => {
        const [from, to] = turn++ % 2 === 0 ? [alice, bob] : [bob, alice];
        lib.decryptRatchetMessage(to, lib.encryptRatchetMessage(from, message).message);
      });
      const store = new lib.SenderKeyStore();
      const own = store.getOrCreateOwnKey("bench-channel", now).key;
      const received = lib.createReceivedSenderKey("a1", lib.createSenderKeyDistribution(own));
      const senderKeyMicros = batched(30, 20, () => void lib.decryptGroupMessage(received, lib.encryptGroupMessage(own, "a1", message).message));

      const size = attachmentMiB * 1024 * 1024;
      const block = lib.randomBytes(64 * 1024);
      const source = () => {
        let sent = 0;
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= size) return controller.close();
            controller.enqueue(block);
            sent += block.length;
          },
        });
      };
      const drain = async (stream: ReadableStream<Uint8Array>, keep?: Uint8Array[]) => {
        const reader = stream.getReader();
        let n = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return n;
          n += value.length;
          keep?.push(value);
        }
      };
      const key = lib.generateAttachmentKey();
      const kept: Uint8Array[] = [];
      let start = performance.now();
      const encrypted = await lib.encryptAttachmentStream(key, source());
      await drain(encrypted.stream, kept);
      const encryptSeconds = (performance.now() - start) / 1000;
      start = performance.now();
      let i = 0;
      const replay = new ReadableStream<Uint8Array>({ pull: (c) => (i < kept.length ? c.enqueue(kept[i++]!) : c.close()) });
      const plainBytes = await drain(await lib.decryptAttachmentStream(key, encrypted.header, replay));
      const decryptSeconds = (performance.now() - start) / 1000;
      if (plainBytes !== size) throw new Error(`decrypted ${plainBytes} of ${size} bytes`);
      const mb = size / 1e6;
      return { ratchetMicros, ratchetTurnMicros, senderKeyMicros, attachmentEncryptMBps: mb / encryptSeconds, attachmentDecryptMBps: mb / decryptSeconds, attachmentMiB };
    },
    { bundleUrl, attachmentMiB },
  );
}

export function formatFigures(f: BrowserCryptoFigures): string {
  return [
    `chromium double ratchet 1 KiB encrypt+decrypt, median: ${f.ratchetMicros.toFixed(0)} µs (same chain), ${f.ratchetTurnMicros.toFixed(0)} µs (DH ratchet turn every message)`,
    `chromium sender key 1 KiB encrypt+decrypt (sign+verify), median: ${f.senderKeyMicros.toFixed(0)} µs`,
    `chromium attachment (WebCrypto AES-256-GCM, 64 KiB chunks, ${f.attachmentMiB} MiB streamed): encrypt ${f.attachmentEncryptMBps.toFixed(0)} MB/s, decrypt ${f.attachmentDecryptMBps.toFixed(0)} MB/s`,
  ].join("\n");
}

if (import.meta.main) {
  const { ensureClientBuild } = await import("../build.ts");
  const { SECURITY_HEADERS } = await import("../../src/http/security-headers.ts");
  const { launchBrowser } = await import("../../test/helpers/browser.ts");
  const { join, resolve, normalize } = await import("node:path");
  const publicDir = resolve(import.meta.dir, "../../public");
  await ensureClientBuild(publicDir);
  const { files } = JSON.parse(await Bun.file(join(publicDir, "build", "manifest.json")).text()) as { files: Record<string, string> };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const headers = { ...SECURITY_HEADERS };
      if (path === "/") return new Response("<!doctype html><title>crypto bench</title><p>bench</p>", { headers: { ...headers, "content-type": "text/html" } });
      const file = normalize(join(publicDir, path.replace(/^\/public\//, "")));
      // Anything else the browser asks for (its /favicon.ico) is a 404, not a server error that
      // turns the bench's exit code into 1 after it printed its figures.
      if (!file.startsWith(publicDir) || !(await Bun.file(file).exists())) return new Response("no", { status: 404 });
      return new Response(Bun.file(file), { headers: { ...headers, "content-type": "text/javascript" } });
    },
  });
  const browser = await launchBrowser();
  if (!browser) process.exit(1);
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  console.log(formatFigures(await benchInPage(page, `/public/${files["e2ee.js"]}`, 100)));
  await browser.close();
  server.stop(true);
}
