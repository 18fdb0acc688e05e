/**
 * The call fingerprint attestation (docs/crypto.md, "Calls"): signed by the sender device,
 * carried in a pairwise Double Ratchet message, verified and checked against the SDP the server
 * relayed. A server that rewrites `a=fingerprint` is caught; so is a replayed, re-addressed or
 * re-signed attestation.
 */
import { describe, expect, test } from "bun:test";
import { createDeviceIdentity, decryptRatchetMessage, encryptRatchetMessage, type DeviceIdentity } from "../../../src/client/e2ee/index.ts";
import { signCallAttestation, verifyCallAttestation } from "../../../src/client/e2ee/call-attestation.ts";
import { encodeBase64url, encodeRatchetMessage } from "../../../src/shared/e2ee/index.ts";
import { ATTESTATION_MAX_SKEW_MS, attestationMismatch, encodeRefusalNotice, fingerprintMismatch, parseAttestationPlaintext, parseRefusalNotice, sdpFingerprints, type CallAttestation } from "../../../src/shared/call-attestation.ts";
import { MAX_ATTESTATION_CHARS } from "../../../src/shared/protocol.ts";
import { establishSessions } from "./test-helpers.ts";

const device = (userId: string): DeviceIdentity => createDeviceIdentity({ userId, deviceId: `dev-${userId}`, now: Date.now() });
const FP = "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3A:A3:36:9F:12:F0:8D:6F:0A:6B:2C:4D";
const sdp = (fp = FP) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=fingerprint:sha-256 ${fp}\r\na=setup:actpass\r\n`;

function attestation(alice: DeviceIdentity, bob: DeviceIdentity, now = Date.now()): CallAttestation {
  return {
    v: 1,
    channelId: crypto.randomUUID(),
    fromUserId: alice.userId,
    fromDeviceId: alice.deviceId,
    fromConnId: crypto.randomUUID(),
    toUserId: bob.userId,
    toDeviceId: bob.deviceId,
    toConnId: crypto.randomUUID(),
    fingerprints: [{ algorithm: "sha-256", value: FP.toLowerCase() }],
    issuedAt: now,
  };
}

describe("call fingerprint attestation", () => {
  test("round trip through a pairwise session: verified, matching the SDP, within the relay's size bound", () => {
    const [alice, bob] = [device("alice"), device("bob")];
    const { aliceSession, bobSession } = establishSessions(alice, bob);
    const a = attestation(alice, bob);
    const { message } = encryptRatchetMessage(aliceSession.ratchet, signCallAttestation(alice, a));
    const wire = encodeBase64url(new TextEncoder().encode(JSON.stringify(encodeRatchetMessage(message))));
    expect(wire.length).toBeLessThan(MAX_ATTESTATION_CHARS);
    const { plaintext } = decryptRatchetMessage(bobSession.ratchet, message);
    const verified = verifyCallAttestation(alice.signing.publicKey, plaintext)!;
    expect(verified).not.toBeNull();
    expect(verified.fingerprints).toEqual([{ algorithm: "sha-256", value: FP }]);
    expect(attestationMismatch(verified, { ...a, nowMs: Date.now() })).toBeNull();
    expect(fingerprintMismatch(sdp(), verified.fingerprints)).toBeNull();
  });

  test("a refusal notice goes back through the same session, within the relay's size bound, and is never taken for an attestation (or the reverse)", () => {
    const [alice, bob] = [device("alice"), device("bob")];
    const { aliceSession, bobSession } = establishSessions(alice, bob);
    const why = fingerprintMismatch(sdp("00:11"), [{ algorithm: "sha-256", value: FP }])!;
    const notice = { channelId: "ch", fromConnId: "conn-b", toConnId: "conn-a", reason: why };
    const { message } = encryptRatchetMessage(bobSession.ratchet, encodeRefusalNotice(notice));
    const wire = encodeBase64url(new TextEncoder().encode(JSON.stringify(encodeRatchetMessage(message))));
    expect(wire.length).toBeLessThan(MAX_ATTESTATION_CHARS);
    const { plaintext } = decryptRatchetMessage(aliceSession.ratchet, message);
    expect(parseRefusalNotice(plaintext)).toEqual({ refusal: 1, ...notice });
    expect(parseAttestationPlaintext(plaintext)).toBeNull();
    expect(parseRefusalNotice(signCallAttestation(alice, attestation(alice, bob)))).toBeNull();
    // Bounded and typed: a long reason is cut, a malformed notice is none.
    expect(parseRefusalNotice(encodeRefusalNotice({ ...notice, reason: "x".repeat(1000) }))!.reason.length).toBe(300);
    for (const bad of ['{"refusal":2,"channelId":"c","fromConnId":"f","toConnId":"t","reason":"r"}', '{"refusal":1,"channelId":"c","fromConnId":"f","toConnId":"t"}', "not json", "null"]) expect(parseRefusalNotice(new TextEncoder().encode(bad))).toBeNull();
  });

  test("a server rewriting the fingerprint in relayed SDP is caught, with a reason to show", () => {
    const [alice, bob] = [device("alice"), device("bob")];
    const verified = verifyCallAttestation(alice.signing.publicKey, signCallAttestation(alice, attestation(alice, bob)))!;
    const rewritten = sdp("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
    expect(fingerprintMismatch(rewritten, verified.fingerprints)).toContain("is not the one the peer's device signed");
    // A second fingerprint line next to the genuine one is refused too; so is none at all.
    expect(fingerprintMismatch(sdp() + "a=fingerprint:sha-256 00:11\r\n", verified.fingerprints)).not.toBeNull();
    expect(fingerprintMismatch(sdp().replace(/a=fingerprint[^\r]*\r\n/, ""), verified.fingerprints)).toBe("the description carries no DTLS fingerprint");
    expect(sdpFingerprints(sdp(FP.toLowerCase()))).toEqual([{ algorithm: "sha-256", value: FP }]);
  });

  test("a forged, tampered, re-addressed or stale attestation is refused", () => {
    const [alice, bob, mallory] = [device("alice"), device("bob"), device("mallory")];
    const a = attestation(alice, bob);
    const signed = signCallAttestation(alice, a);
    // Signed by another device (the server cannot sign as Alice's device).
    expect(verifyCallAttestation(alice.signing.publicKey, signCallAttestation(mallory, a))).toBeNull();
    // A fingerprint swapped inside the signed plaintext.
    const tampered = new TextEncoder().encode(new TextDecoder().decode(signed).replace(FP.toLowerCase(), "00".repeat(32)));
    expect(verifyCallAttestation(alice.signing.publicKey, tampered)).toBeNull();
    expect(verifyCallAttestation(alice.signing.publicKey, new TextEncoder().encode("{}"))).toBeNull();
    // Genuine, but for another binding of the call, another device, or too old.
    const verified = verifyCallAttestation(alice.signing.publicKey, signed)!;
    expect(attestationMismatch(verified, { ...a, fromConnId: crypto.randomUUID(), nowMs: Date.now() })).toContain("fromConnId");
    expect(attestationMismatch(verified, { ...a, toDeviceId: "dev-other", nowMs: Date.now() })).toContain("toDeviceId");
    expect(attestationMismatch(verified, { ...a, nowMs: a.issuedAt + ATTESTATION_MAX_SKEW_MS + 1 })).toContain("too old");
  });
});
