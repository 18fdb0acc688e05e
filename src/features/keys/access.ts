/**
 * Who may see a user's devices and fetch their prekey bundles: the owner, and users who may
 * message the owner (share a community or an existing DM). Everyone else gets 404, exactly as if
 * the user did not exist, and consumes nothing.
 *
 * The contact relation is the communities feature's `shareCommunityOrDm`: the same rule that
 * decides who may start a DM decides who may start an encrypted session. (The reference handed
 * prekeys to any signed-in caller: chatalot-inventory §9.)
 */
import type { Db } from "../../db/open.ts";
import type { Executor } from "../../db/tx.ts";
import { NotFoundError } from "../../errors.ts";
import { ID_PATTERN } from "../../shared/e2ee/index.ts";
import { shareCommunityOrDm } from "../dms/index.ts";
import { findDevice, type DeviceRow } from "./queries.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function mayFetchKeysOf(db: Db, viewerId: string, ownerId: string): Promise<boolean> {
  return viewerId === ownerId || (await shareCommunityOrDm(db, viewerId, ownerId));
}

/** The owner id if the viewer may see that user's keys; otherwise 404 (also for malformed ids). */
export async function accessKeyOwner(db: Db, viewerId: string, ownerId: string): Promise<string> {
  if (!UUID.test(ownerId) || !(await mayFetchKeysOf(db, viewerId, ownerId))) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  return ownerId.toLowerCase();
}

/** One of the actor's OWN devices, or 404: another user's device "does not exist" for them. */
export async function accessOwnDevice(ex: Executor, actorId: string, deviceId: string, opts: { forUpdate?: boolean } = {}): Promise<DeviceRow> {
  const device = ID_PATTERN.test(deviceId) ? await findDevice(ex, actorId, deviceId, opts) : undefined;
  if (!device) throw new NotFoundError("No such device.", "DEVICE_NOT_FOUND");
  return device;
}
