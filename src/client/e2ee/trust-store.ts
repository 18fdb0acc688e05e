// Trust on first use for contacts' device identity keys, and pinning of the server identity
// (seeds/004: "Clients remember the server identity and warn if it unexpectedly changes").
// A changed key is never silently accepted: the contact stays "changed" until the user verifies
// the new safety number, and the server pin stays until the user accepts the new identity.

import { concatBytes, equalBytes, encodeUtf8 } from "./bytes.ts";
import { fromB64, readStateObject, toB64 } from "./codec.ts";
import type { KeyStore } from "./key-store.ts";

export type ContactTrustState = "unverified" | "verified" | "changed";
export type IdentityCheck = "first-use" | "match" | "changed";

interface ContactRecord {
  identityKey: string;
  state: ContactTrustState;
  /** While `changed`: the new key seen, awaiting verification. */
  pendingIdentityKey?: string;
}

function contactName(userId: string, deviceId: string): string {
  return `trust/contact/${userId}/${deviceId}`;
}

async function readContact(store: KeyStore, userId: string, deviceId: string): Promise<ContactRecord | undefined> {
  const raw = await store.get(contactName(userId, deviceId));
  return raw === undefined ? undefined : (readStateObject(JSON.parse(raw), "contact") as unknown as ContactRecord);
}

/**
 * Records a contact device's identity key (64 bytes, signing ‖ DH) as seen in a bundle or X3DH
 * header. First sighting pins it; a different key marks the contact "changed".
 */
export async function checkContactIdentity(
  store: KeyStore,
  userId: string,
  deviceId: string,
  identityKey: Uint8Array,
): Promise<{ check: IdentityCheck; state: ContactTrustState }> {
  const record = await readContact(store, userId, deviceId);
  if (!record) {
    await store.put(contactName(userId, deviceId), JSON.stringify({ identityKey: toB64(identityKey), state: "unverified" }));
    return { check: "first-use", state: "unverified" };
  }
  if (equalBytes(fromB64(record.identityKey, undefined, "contact.identityKey"), identityKey)) {
    return { check: "match", state: record.state };
  }
  const changed: ContactRecord = { identityKey: record.identityKey, state: "changed", pendingIdentityKey: toB64(identityKey) };
  await store.put(contactName(userId, deviceId), JSON.stringify(changed));
  return { check: "changed", state: "changed" };
}

/** The user compared safety numbers (or scanned the QR) for this exact key. */
export async function markContactVerified(store: KeyStore, userId: string, deviceId: string, identityKey: Uint8Array): Promise<void> {
  await store.put(contactName(userId, deviceId), JSON.stringify({ identityKey: toB64(identityKey), state: "verified" }));
}

export async function getContactTrustState(store: KeyStore, userId: string, deviceId: string): Promise<ContactTrustState | undefined> {
  return (await readContact(store, userId, deviceId))?.state;
}

// ---- server identity --------------------------------------------------------------------------

const SERVER_PIN_NAME = "trust/server-identity";

function normaliseFingerprint(fingerprint: string | Uint8Array): Uint8Array {
  return typeof fingerprint === "string" ? concatBytes(Uint8Array.of(0), encodeUtf8(fingerprint)) : concatBytes(Uint8Array.of(1), fingerprint);
}

/** First use pins the fingerprint; later a different one is "changed" and the pin is kept. */
export async function checkServerIdentity(store: KeyStore, fingerprint: string | Uint8Array): Promise<IdentityCheck> {
  const seen = normaliseFingerprint(fingerprint);
  const pinned = await store.get(SERVER_PIN_NAME);
  if (pinned === undefined) {
    await store.put(SERVER_PIN_NAME, toB64(seen));
    return "first-use";
  }
  return equalBytes(fromB64(pinned, undefined, "serverPin"), seen) ? "match" : "changed";
}

/** After the user confirmed a legitimate change (e.g. the admin announced a new key). */
export async function acceptServerIdentity(store: KeyStore, fingerprint: string | Uint8Array): Promise<void> {
  await store.put(SERVER_PIN_NAME, toB64(normaliseFingerprint(fingerprint)));
}
