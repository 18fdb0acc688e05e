// Who gets a ciphertext (the app's duty in docs/crypto.md): every device of every participant,
// the sender's other devices included, never the sending device itself; and when a channel's own
// sender key must rotate. Pure; unit-tested.

import { shouldRotateSenderKey } from "../e2ee/sender-key-store.ts";

export interface DeviceRef {
  userId: string;
  deviceId: string;
}

export const deviceKey = (d: DeviceRef): string => `${d.userId}/${d.deviceId}`;

/** Devices to encrypt for: all devices of `participants` (self included), minus this device. */
export function selectRecipientDevices(
  devicesByUser: ReadonlyMap<string, readonly string[]>,
  participants: readonly string[],
  self: DeviceRef,
): DeviceRef[] {
  const out: DeviceRef[] = [];
  const seen = new Set<string>();
  for (const userId of new Set([...participants, self.userId])) {
    for (const deviceId of devicesByUser.get(userId) ?? []) {
      if (userId === self.userId && deviceId === self.deviceId) continue;
      const ref = { userId, deviceId };
      if (seen.has(deviceKey(ref))) continue;
      seen.add(deviceKey(ref));
      out.push(ref);
    }
  }
  return out;
}

export interface SenderKeyPlan {
  /** Create a fresh own key (none yet) or replace it (rotation). */
  action: "create" | "rotate" | "keep";
  reason?: "no-key" | "membership-shrank" | "age-or-count";
  /** Devices that must receive the (new or current) distribution now. */
  distributeTo: DeviceRef[];
}

/**
 * `distributedTo`: device keys that hold our current sender key. A device that held it and is no
 * longer a member device (member left/kicked/banned, device revoked) means the membership shrank:
 * rotate and send the new key only to the current devices. New devices just get the current key.
 */
export function planSenderKey(
  own: { createdAt: number; messageCount: number } | undefined,
  distributedTo: ReadonlySet<string>,
  current: readonly DeviceRef[],
  now: number,
): SenderKeyPlan {
  if (!own) return { action: "create", reason: "no-key", distributeTo: [...current] };
  const currentKeys = new Set(current.map(deviceKey));
  const shrank = [...distributedTo].some((k) => !currentKeys.has(k));
  if (shrank) return { action: "rotate", reason: "membership-shrank", distributeTo: [...current] };
  if (shouldRotateSenderKey({ ...own, membershipChanged: false }, now)) return { action: "rotate", reason: "age-or-count", distributeTo: [...current] };
  return { action: "keep", distributeTo: current.filter((d) => !distributedTo.has(deviceKey(d))) };
}
