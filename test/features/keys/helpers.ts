/**
 * Helpers for key-service tests: real device identities from the client library, encoded with
 * the shared wire format exactly as a browser uploads them, and a stand-in contact check.
 */
import { createDeviceIdentity, exportDevicePublicBundle, type DeviceIdentity } from "../../../src/client/e2ee/index.ts";
import { encodeDevicePublicBundle } from "../../../src/shared/e2ee/index.ts";
import type { TestContext } from "../../helpers/app.ts";

export function newDevice(userId: string, deviceId = `dev-${crypto.randomUUID()}`): DeviceIdentity {
  return createDeviceIdentity({ userId, deviceId, now: Date.now() });
}

/** The registration body of a fresh device (100 one-time prekeys). */
export function registrationBody(device: DeviceIdentity): Record<string, unknown> {
  return encodeDevicePublicBundle(exportDevicePublicBundle(device));
}

export function registerDevice(ctx: TestContext, headers: Record<string, string>, device: DeviceIdentity | Record<string, unknown>): Promise<Response> {
  const body = "signing" in device ? registrationBody(device as DeviceIdentity) : device;
  return ctx.request("/api/keys/devices", { method: "POST", headers, body: JSON.stringify(body) });
}

/**
 * Stand-in for the communities feature's `shareCommunityOrDm`: these pairs are contacts. At merge
 * the lead installs the real check as the default; these tests keep installing their own.
 */
export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code: string } };
  return body.error?.code ?? `no error (status ${res.status})`;
}
