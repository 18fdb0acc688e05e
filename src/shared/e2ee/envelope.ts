// Pairwise envelope: one logical message fanned out to several devices, each with its own Double
// Ratchet ciphertext. The server routes `recipients[i].message` to `recipients[i].deviceId` and
// sees only the device ids and sizes.

import { MAX_ENVELOPE_JSON_BYTES, MAX_ENVELOPE_RECIPIENTS, WIRE_VERSION } from "./constants.ts";
import { WireFormatError } from "./errors.ts";
import { checkKnownFields, checkVersion, readArray, readId, readNestedObject, readObjectValue, readRoot, type WireObject } from "./fields.ts";
import { encodeRatchetMessage, readRatchetMessageObject, type RatchetMessage } from "./ratchet-message.ts";

export interface EnvelopeRecipient {
  deviceId: string;
  message: RatchetMessage;
}
export interface PairwiseEnvelope {
  senderDeviceId: string;
  recipients: EnvelopeRecipient[];
}

export function parsePairwiseEnvelope(input: unknown): PairwiseEnvelope {
  const obj = readRoot(input, MAX_ENVELOPE_JSON_BYTES);
  checkVersion(obj);
  checkKnownFields(obj, ["v", "senderDeviceId", "recipients"], "");
  const items = readArray(obj, "recipients", "", MAX_ENVELOPE_RECIPIENTS);
  if (items.length === 0) throw new WireFormatError("INVALID_LENGTH", "no recipients", "recipients");
  const seen = new Set<string>();
  const recipients = items.map((item, i) => {
    const path = `recipients.${i}`;
    const entry = readObjectValue(item, path);
    checkKnownFields(entry, ["deviceId", "message"], path);
    const deviceId = readId(entry, "deviceId", path);
    if (seen.has(deviceId)) throw new WireFormatError("DUPLICATE_ID", "device listed twice", `${path}.deviceId`);
    seen.add(deviceId);
    return { deviceId, message: readRatchetMessageObject(readNestedObject(entry, "message", path), `${path}.message`) };
  });
  return { senderDeviceId: readId(obj, "senderDeviceId", ""), recipients };
}

export function encodePairwiseEnvelope(envelope: PairwiseEnvelope): WireObject {
  return {
    v: WIRE_VERSION,
    senderDeviceId: envelope.senderDeviceId,
    recipients: envelope.recipients.map((r) => ({ deviceId: r.deviceId, message: encodeRatchetMessage(r.message) })),
  };
}
