// Trust on first use for contacts' device identity keys, and pinning of the server identity
// (seeds/004: "Clients remember the server identity and warn if it unexpectedly changes").
// A changed key is never silently accepted: the contact stays "changed" until the user verifies
// the new safety number, and the server pin stays until the user accepts the new identity.

import { concatBytes, equalBytes, encodeUtf8 } from "./bytes.ts";
import { fromB64, readStateObject, toB64 } from "./codec.ts";
import type { KeyStore } from "./key-store.ts";
import { verifySignature } from "./primitives.ts";

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

const SERVER_IDENTITY_CONTEXT = "Hearth server identity v1\0";

/**
 * The server's answer to GET /api/keys/server-identity?challenge=… (src/features/keys/
 * server-identity.ts): its Ed25519 public key and a signature over context ‖ our fresh challenge.
 * "invalid" when the signature does not verify (someone who only copied the public key);
 * otherwise the pin check of that public key.
 */
export async function checkServerIdentityProof(store: KeyStore, publicKey: Uint8Array, challenge: Uint8Array, signature: Uint8Array): Promise<IdentityCheck | "invalid"> {
  const valid = verifySignature(publicKey, concatBytes(encodeUtf8(SERVER_IDENTITY_CONTEXT), challenge), signature);
  return valid ? checkServerIdentity(store, publicKey) : "invalid";
}

/** After the user confirmed a legitimate change (e.g. the admin announced a new key). */
export async function acceptServerIdentity(store: KeyStore, fingerprint: string | Uint8Array): Promise<void> {
  await store.put(SERVER_PIN_NAME, toB64(normaliseFingerprint(fingerprint)));
}

// ---- people (all of a contact's devices at once) ------------------------------------------------
// What the user marks in the Verify panel: "this person, with exactly these devices and keys".
// A device that is not in the record (a new or re-registered device) turns the person "changed"
// until the user acknowledges it (which drops them back to unverified) or verifies again.

interface PersonRecord {
  state: "verified" | "changed";
  /** deviceId -> base64 identity key (signing ‖ DH) as compared. */
  devices: Record<string, string>;
}

function personName(userId: string): string {
  return `trust/person/${userId}`;
}

async function readPerson(store: KeyStore, userId: string): Promise<PersonRecord | undefined> {
  const raw = await store.get(personName(userId));
  return raw === undefined ? undefined : (readStateObject(JSON.parse(raw), "person") as unknown as PersonRecord);
}

/** The user compared safety numbers with every one of these devices: the person is verified. */
export async function markPersonVerified(store: KeyStore, userId: string, devices: readonly { deviceId: string; identityKey: Uint8Array }[]): Promise<void> {
  const record: PersonRecord = { state: "verified", devices: {} };
  for (const d of devices) {
    record.devices[d.deviceId] = toB64(d.identityKey);
    await markContactVerified(store, userId, d.deviceId, d.identityKey);
  }
  await store.put(personName(userId), JSON.stringify(record));
}

/**
 * A person's trust given the devices the server lists for them now. `undefined`: never verified.
 * A listed device that was not verified (or whose key differs, when keys are given) makes a
 * verified person "changed", and it stays so until acknowledged or verified again; a device
 * that was removed changes nothing (nobody new can read).
 */
export async function checkPersonDevices(
  store: KeyStore,
  userId: string,
  devices: readonly { deviceId: string; identityKey?: Uint8Array }[],
): Promise<"verified" | "changed" | undefined> {
  const record = await readPerson(store, userId);
  if (!record || record.state === "changed") return record?.state;
  const fresh = devices.some((d) => {
    const known = record.devices[d.deviceId];
    return known === undefined || (d.identityKey !== undefined && !equalBytes(fromB64(known, undefined, "person.identityKey"), d.identityKey));
  });
  if (!fresh) return "verified";
  await store.put(personName(userId), JSON.stringify({ ...record, state: "changed" }));
  return "changed";
}

/** The user read the key-change warning and chose to go on: the person is unverified again. */
export async function acknowledgePersonChange(store: KeyStore, userId: string): Promise<void> {
  await store.delete(personName(userId));
}
