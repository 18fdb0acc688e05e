// E2EE library figures: median 1 KiB encrypt+decrypt (Double Ratchet, Sender Keys), attachment
// throughput (WebCrypto AES-GCM as used, compared with @noble AES-GCM and XChaCha20-Poly1305 on
// the same chunks), serialised ratchet state size after 1000 messages, and bundle size.
// Run: bun scripts/bench/crypto.ts

import { gcm } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  acceptSessionAsResponder,
  computeEncryptedAttachmentSize,
  createDeviceIdentity,
  createReceivedSenderKey,
  createSenderKeyDistribution,
  decryptAttachmentStream,
  decryptGroupMessage,
  decryptRatchetMessage,
  encryptAttachmentStream,
  encryptGroupMessage,
  encryptRatchetMessage,
  exportDevicePublicBundle,
  generateAttachmentKey,
  randomBytes,
  SenderKeyStore,
  serialiseRatchetState,
  startSessionAsInitiator,
  type RatchetState,
} from "../../src/client/e2ee/index.ts";

const now = Date.now();
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
function measure(iterations: number, run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

function createSessionPair(): { alice: RatchetState; bob: RatchetState } {
  const a = createDeviceIdentity({ userId: "alice", deviceId: "a1", now });
  const b = createDeviceIdentity({ userId: "bob", deviceId: "b1", now });
  const pub = exportDevicePublicBundle(b);
  const session = startSessionAsInitiator(a, { userId: "bob", deviceId: "b1", signingKey: pub.signingKey, identityKey: pub.identityKey, signedPrekey: pub.signedPrekey, oneTimePrekey: pub.oneTimePrekeys[0]! });
  const first = encryptRatchetMessage(session.ratchet, new Uint8Array(1));
  const accepted = acceptSessionAsResponder(b, { userId: "alice", deviceId: "a1" }, first.message);
  return { alice: session.ratchet, bob: accepted.session.ratchet };
}

const message = randomBytes(1024);

// Double Ratchet, same direction (symmetric chain steps only).
{
  const { alice, bob } = createSessionPair();
  for (let i = 0; i < 200; i++) decryptRatchetMessage(bob, encryptRatchetMessage(alice, message).message); // warm-up
  const chain = measure(2000, () => void decryptRatchetMessage(bob, encryptRatchetMessage(alice, message).message));
  // Ping-pong: every message turns the DH ratchet (two X25519 per side).
  let turn = 0;
  const pingPong = measure(500, () => {
    const [from, to] = turn++ % 2 === 0 ? [alice, bob] : [bob, alice];
    decryptRatchetMessage(to, encryptRatchetMessage(from, message).message);
  });
  console.log(`double ratchet 1 KiB encrypt+decrypt, median: ${(chain * 1000).toFixed(0)} µs (same chain), ${(pingPong * 1000).toFixed(0)} µs (DH ratchet turn every message)`);
}

// Sender Keys (includes Ed25519 sign + verify).
{
  const store = new SenderKeyStore();
  const own = store.getOrCreateOwnKey("channel", now).key;
  const receiver = createReceivedSenderKey("a1", createSenderKeyDistribution(own));
  for (let i = 0; i < 200; i++) decryptGroupMessage(receiver, encryptGroupMessage(own, "a1", message).message);
  const groupTime = measure(2000, () => void decryptGroupMessage(receiver, encryptGroupMessage(own, "a1", message).message));
  console.log(`sender key 1 KiB encrypt+decrypt (sign+verify), median: ${(groupTime * 1000).toFixed(0)} µs`);
}

// Ratchet state size after 1000 messages.
{
  const { alice, bob } = createSessionPair();
  for (let i = 0; i < 1000; i++) {
    const [from, to] = Math.floor(i / 10) % 2 === 0 ? [alice, bob] : [bob, alice]; // bursts of 10, turning
    decryptRatchetMessage(to, encryptRatchetMessage(from, message).message);
  }
  const size = JSON.stringify(serialiseRatchetState(bob)).length;
  // Worst realistic case: 1000 messages of which every other one was lost (500 skipped keys kept).
  const lossy = createSessionPair();
  for (let i = 0; i < 1000; i++) {
    const sent = encryptRatchetMessage(lossy.alice, message);
    if (i % 2 === 1) decryptRatchetMessage(lossy.bob, sent.message);
  }
  const lossySize = JSON.stringify(serialiseRatchetState(lossy.bob)).length;
  console.log(`ratchet state after 1000 messages: ${size} bytes serialised (no losses); ${lossySize} bytes with 500 skipped keys`);
}

// Attachments: 100 MB through the streaming API.
async function streamOfSize(total: number): Promise<ReadableStream<Uint8Array>> {
  const piece = randomBytes(1024 * 1024);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(piece);
      sent += piece.length;
    },
  });
}
async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return total;
    total += value.length;
  }
}
{
  const size = 100 * 1024 * 1024;
  const key = generateAttachmentKey();
  let start = performance.now();
  const encrypted = await encryptAttachmentStream(key, await streamOfSize(size));
  const parts: Uint8Array[] = [];
  const reader = encrypted.stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const encryptSeconds = (performance.now() - start) / 1000;
  let index = 0;
  const replay = new ReadableStream<Uint8Array>({ pull: (c) => (index < parts.length ? c.enqueue(parts[index++]!) : c.close()) });
  start = performance.now();
  const plainBytes = await drain(await decryptAttachmentStream(key, encrypted.header, replay));
  const decryptSeconds = (performance.now() - start) / 1000;
  if (plainBytes !== size || parts.reduce((n, p) => n + p.length, 0) !== computeEncryptedAttachmentSize(size)) throw new Error("size mismatch");
  console.log(`attachment (WebCrypto AES-256-GCM, 64 KiB chunks, streamed): encrypt ${(100 / encryptSeconds).toFixed(0)} MB/s, decrypt ${(100 / decryptSeconds).toFixed(0)} MB/s`);

  // Same chunks through noble, to justify the choice.
  const chunk = randomBytes(64 * 1024);
  const chunks = 160; // 10 MB
  const nobleKey = randomBytes(32);
  start = performance.now();
  for (let i = 0; i < chunks; i++) gcm(nobleKey, randomBytes(12)).encrypt(chunk);
  const nobleGcm = 10 / ((performance.now() - start) / 1000);
  start = performance.now();
  for (let i = 0; i < chunks; i++) xchacha20poly1305(nobleKey, randomBytes(24)).encrypt(chunk);
  const nobleXChaCha = 10 / ((performance.now() - start) / 1000);
  console.log(`  for comparison, encrypt only: @noble AES-256-GCM ${nobleGcm.toFixed(0)} MB/s, @noble XChaCha20-Poly1305 ${nobleXChaCha.toFixed(0)} MB/s`);
}

// Bundle size.
{
  const result = await Bun.build({ entrypoints: [`${import.meta.dir}/../../src/client/e2ee/index.ts`], target: "browser", format: "esm", minify: true });
  const text = await result.outputs[0]!.text();
  const gzip = Bun.gzipSync(new TextEncoder().encode(text)).length;
  console.log(`bundle src/client/e2ee/index.ts: ${(text.length / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`);
}
