// Versioned JSON-safe serialisation of a Double Ratchet state. Round-trips at any point, including
// with skipped keys and a pending X3DH header, so a session can be persisted after every message.

import { encodeX3dhHeader, readX3dhHeader, type X3dhHeader } from "../../shared/e2ee/ratchet-message.ts";
import {
  checkStateVersion,
  fromB64,
  fromB64OrNull,
  readStateArray,
  readStateInteger,
  readStateObject,
  readStateString,
  toB64,
} from "./codec.ts";
import type { RatchetState } from "./double-ratchet.ts";
import { E2eeError } from "./errors.ts";

const STATE_VERSION = 1;

export interface SerialisedRatchetState {
  v: number;
  dhSelf: [string, string];
  dhRemote: string | null;
  rootKey: string;
  sendChainKey: string | null;
  receiveChainKey: string | null;
  sendCount: number;
  receiveCount: number;
  previousSendCount: number;
  skipped: Array<[string, string]>;
  associatedData: string;
  pendingX3dh: Record<string, unknown> | null;
}

export function serialiseRatchetState(state: RatchetState): SerialisedRatchetState {
  return {
    v: STATE_VERSION,
    dhSelf: [toB64(state.dhSelf.publicKey), toB64(state.dhSelf.privateKey)],
    dhRemote: state.dhRemote ? toB64(state.dhRemote) : null,
    rootKey: toB64(state.rootKey),
    sendChainKey: state.sendChainKey ? toB64(state.sendChainKey) : null,
    receiveChainKey: state.receiveChainKey ? toB64(state.receiveChainKey) : null,
    sendCount: state.sendCount,
    receiveCount: state.receiveCount,
    previousSendCount: state.previousSendCount,
    skipped: [...state.skipped].map(([name, key]) => [name, toB64(key)]),
    associatedData: toB64(state.associatedData),
    // Same encoding as on the wire rather than a second format.
    pendingX3dh: state.pendingX3dh ? encodeX3dhHeader(state.pendingX3dh) : null,
  };
}

export function restoreRatchetState(value: unknown): RatchetState {
  const o = readStateObject(value, "ratchet");
  checkStateVersion(o, STATE_VERSION, "ratchet");
  const dhSelf = readStateArray(o["dhSelf"], "ratchet.dhSelf");
  const skipped = new Map<string, Uint8Array>();
  for (const entry of readStateArray(o["skipped"], "ratchet.skipped")) {
    const e = readStateArray(entry, "ratchet.skipped[]");
    skipped.set(readStateString(e[0], "ratchet.skipped.name"), fromB64(e[1], 32, "ratchet.skipped.key"));
  }
  let pendingX3dh: X3dhHeader | null = null;
  if (o["pendingX3dh"] !== null) {
    try {
      pendingX3dh = readX3dhHeader(readStateObject(o["pendingX3dh"], "ratchet.pendingX3dh"), "pendingX3dh");
    } catch {
      throw new E2eeError("INVALID_STATE", "ratchet.pendingX3dh");
    }
  }
  return {
    dhSelf: { publicKey: fromB64(dhSelf[0], 32, "ratchet.dhSelf.public"), privateKey: fromB64(dhSelf[1], 32, "ratchet.dhSelf.private") },
    dhRemote: fromB64OrNull(o["dhRemote"], 32, "ratchet.dhRemote"),
    rootKey: fromB64(o["rootKey"], 32, "ratchet.rootKey"),
    sendChainKey: fromB64OrNull(o["sendChainKey"], 32, "ratchet.sendChainKey"),
    receiveChainKey: fromB64OrNull(o["receiveChainKey"], 32, "ratchet.receiveChainKey"),
    sendCount: readStateInteger(o["sendCount"], "ratchet.sendCount"),
    receiveCount: readStateInteger(o["receiveCount"], "ratchet.receiveCount"),
    previousSendCount: readStateInteger(o["previousSendCount"], "ratchet.previousSendCount"),
    skipped,
    associatedData: fromB64(o["associatedData"], 128, "ratchet.associatedData"),
    pendingX3dh,
  };
}
