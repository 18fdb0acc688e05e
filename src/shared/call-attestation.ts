/**
 * The DTLS fingerprint attestation of a call (docs/crypto.md, "Calls"): what one participant's
 * device tells another's, inside a pairwise Double Ratchet message relayed opaquely in
 * `rtc:signal.attestation`, so that a server rewriting `a=fingerprint` in relayed SDP is caught.
 * The wire format and the checks live here (server and browser import it); signing and
 * verifying with the device's Ed25519 key are in src/client/e2ee/call-attestation.ts.
 *
 * Plaintext of the ratchet message: UTF-8 JSON `{ ...CallAttestation fields, "sig": base64url }`.
 * The signature covers SIGNED_CONTEXT ‖ UTF-8(JSON of the fields in CANONICAL_ORDER), rebuilt by
 * the verifier from the parsed values, so re-serialising the JSON cannot change what is signed.
 */
import { decodeBase64url, encodeBase64url } from "./e2ee/base64url.ts";

export const CALL_ATTESTATION_VERSION = 1;
export const SIGNED_CONTEXT = "Hearth call fingerprint v1\0";
/** How far `issuedAt` may be from the verifier's clock. */
export const ATTESTATION_MAX_SKEW_MS = 10 * 60 * 1000;

export type DtlsFingerprint = { algorithm: string; value: string };

export type CallAttestation = {
  v: 1;
  channelId: string;
  fromUserId: string;
  fromDeviceId: string;
  fromConnId: string;
  toUserId: string;
  toDeviceId: string;
  toConnId: string;
  /** RTCCertificate.getFingerprints() of the certificate the sender uses for every peer connection of this call. */
  fingerprints: DtlsFingerprint[];
  /** Milliseconds since the epoch. */
  issuedAt: number;
};

const CANONICAL_ORDER = ["v", "channelId", "fromUserId", "fromDeviceId", "fromConnId", "toUserId", "toDeviceId", "toConnId", "fingerprints", "issuedAt"] as const;

/** Lower-case algorithm, upper-case hex pairs: how both sides compare fingerprints. */
export function normaliseFingerprint(fp: DtlsFingerprint): DtlsFingerprint {
  return { algorithm: fp.algorithm.trim().toLowerCase(), value: fp.value.trim().toUpperCase() };
}

export function attestationSignedBytes(a: CallAttestation): Uint8Array {
  const canonical: Record<string, unknown> = {};
  for (const key of CANONICAL_ORDER) canonical[key] = key === "fingerprints" ? a.fingerprints.map(normaliseFingerprint).map((f) => ({ algorithm: f.algorithm, value: f.value })) : a[key];
  return new TextEncoder().encode(SIGNED_CONTEXT + JSON.stringify(canonical));
}

export function encodeAttestationPlaintext(a: CallAttestation, signature: Uint8Array): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...a, sig: encodeBase64url(signature) }));
}

const isText = (v: unknown, max = 128): v is string => typeof v === "string" && v.length > 0 && v.length <= max;

/** Parses a decrypted attestation plaintext; null when it is not one (the call must then be refused). */
export function parseAttestationPlaintext(bytes: Uint8Array): { attestation: CallAttestation; signature: Uint8Array } | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (o.v !== CALL_ATTESTATION_VERSION || !Number.isSafeInteger(o.issuedAt)) return null;
  for (const key of ["channelId", "fromUserId", "fromDeviceId", "fromConnId", "toUserId", "toDeviceId", "toConnId"] as const) if (!isText(o[key])) return null;
  if (!Array.isArray(o.fingerprints) || o.fingerprints.length === 0 || o.fingerprints.length > 8) return null;
  if (!o.fingerprints.every((f) => typeof f === "object" && f !== null && isText((f as DtlsFingerprint).algorithm, 32) && isText((f as DtlsFingerprint).value, 256))) return null;
  if (!isText(o.sig, 128)) return null;
  let signature: Uint8Array;
  try {
    signature = decodeBase64url(o.sig);
  } catch {
    return null;
  }
  const attestation = Object.fromEntries(CANONICAL_ORDER.map((k) => [k, o[k]])) as unknown as CallAttestation;
  attestation.fingerprints = (o.fingerprints as DtlsFingerprint[]).map(normaliseFingerprint);
  return { attestation, signature };
}

/** Every `a=fingerprint:<algorithm> <value>` of an SDP (session and media level), normalised. */
export function sdpFingerprints(sdp: string): DtlsFingerprint[] {
  const out: DtlsFingerprint[] = [];
  for (const m of sdp.matchAll(/^a=fingerprint:(\S+) (\S+)\s*$/gm)) out.push(normaliseFingerprint({ algorithm: m[1]!, value: m[2]! }));
  return out;
}

/**
 * Why a remote description must be refused, or null when every fingerprint it names was attested
 * (and it names at least one): the browser then completes DTLS only with that certificate.
 */
export function fingerprintMismatch(sdp: string, attested: readonly DtlsFingerprint[]): string | null {
  const inSdp = sdpFingerprints(sdp);
  if (inSdp.length === 0) return "the description carries no DTLS fingerprint";
  const known = new Set(attested.map(normaliseFingerprint).map((f) => `${f.algorithm} ${f.value}`));
  const unknown = inSdp.find((f) => !known.has(`${f.algorithm} ${f.value}`));
  return unknown ? `its DTLS fingerprint (${unknown.algorithm} ${unknown.value}) is not the one the peer's device signed` : null;
}

/**
 * The checks a receiver makes on a verified attestation before trusting it for this peer
 * connection: addressed to this device and binding, from the device the participant list names
 * for that connId, in this call, and fresh. Returns why not, or null.
 */
export function attestationMismatch(a: CallAttestation, expected: { channelId: string; fromUserId: string; fromDeviceId: string; fromConnId: string; toUserId: string; toDeviceId: string; toConnId: string; nowMs: number }): string | null {
  for (const key of ["channelId", "fromUserId", "fromDeviceId", "fromConnId", "toUserId", "toDeviceId", "toConnId"] as const) {
    if (a[key] !== expected[key]) return `the attestation's ${key} does not match this connection`;
  }
  if (Math.abs(a.issuedAt - expected.nowMs) > ATTESTATION_MAX_SKEW_MS) return "the attestation is too old or from the future";
  return null;
}

/**
 * A refusal notice: the refusing participant's device tells the refused one why, sealed in a
 * pairwise ratchet message like an attestation and sent in the same `attestation` field (the
 * server relays it as opaquely). Without it the refused side would only ever see "connecting…".
 * Bound to the two bindings (connIds) of this call; the ratchet authenticates the sender's device.
 * A server can drop it (it can always drop signals): the waiting side then says so after a timeout.
 * Plaintext: UTF-8 JSON `{ "refusal": 1, channelId, fromConnId, toConnId, reason }`.
 */
export type RefusalNotice = { refusal: 1; channelId: string; fromConnId: string; toConnId: string; reason: string };

export function encodeRefusalNotice(n: Omit<RefusalNotice, "refusal">): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ refusal: 1, channelId: n.channelId, fromConnId: n.fromConnId, toConnId: n.toConnId, reason: n.reason.slice(0, 300) }));
}

/** The notice in a decrypted plaintext, or null when it is not one (an attestation, say). */
export function parseRefusalNotice(bytes: Uint8Array): RefusalNotice | null {
  try {
    const o = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as Record<string, unknown>;
    if (o === null || typeof o !== "object" || o.refusal !== 1) return null;
    if (!isText(o.channelId) || !isText(o.fromConnId) || !isText(o.toConnId) || !isText(o.reason, 300)) return null;
    return { refusal: 1, channelId: o.channelId, fromConnId: o.fromConnId, toConnId: o.toConnId, reason: o.reason };
  } catch {
    return null;
  }
}
