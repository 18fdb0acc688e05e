// Shared test helpers: hex conversion and a seeded PRNG (for choosing test orderings only, never
// for keys), plus a two-device setup used by several test files.

import { encodePrekeyBundle, parsePrekeyBundle, type PrekeyBundle } from "../../../src/shared/e2ee/index.ts";
import {
  acceptSessionAsResponder,
  createDeviceIdentity,
  encryptRatchetMessage,
  exportDevicePublicBundle,
  startSessionAsInitiator,
  type DeviceIdentity,
  type PairwiseSession,
} from "../../../src/client/e2ee/index.ts";

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) throw new Error(`odd hex length ${clean.length}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** mulberry32: tiny deterministic PRNG for shuffles and choices in property tests. */
export function createSeededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

/** What the server would hand out for `device`, round-tripped through the wire format. */
export function buildPrekeyBundle(device: DeviceIdentity, withOneTimePrekey: boolean): PrekeyBundle {
  const pub = exportDevicePublicBundle(device);
  const bundle: PrekeyBundle = {
    userId: device.userId,
    deviceId: device.deviceId,
    signingKey: pub.signingKey,
    identityKey: pub.identityKey,
    signedPrekey: pub.signedPrekey,
  };
  if (withOneTimePrekey) bundle.oneTimePrekey = pub.oneTimePrekeys[0]!;
  return parsePrekeyBundle(JSON.stringify(encodePrekeyBundle(bundle)));
}

/** Alice starts a session to Bob; Bob accepts the first message. Both sessions are ready. */
export function establishSessions(alice: DeviceIdentity, bob: DeviceIdentity, withOneTimePrekey = true): {
  aliceSession: PairwiseSession;
  bobSession: PairwiseSession;
} {
  const aliceSession = startSessionAsInitiator(alice, buildPrekeyBundle(bob, withOneTimePrekey));
  const first = encryptRatchetMessage(aliceSession.ratchet, new TextEncoder().encode("hello"));
  const { session: bobSession } = acceptSessionAsResponder(bob, { userId: alice.userId, deviceId: alice.deviceId }, first.message);
  return { aliceSession, bobSession };
}

export function createDevice(userId: string, deviceId: string): DeviceIdentity {
  return createDeviceIdentity({ userId, deviceId, now: NOW });
}
