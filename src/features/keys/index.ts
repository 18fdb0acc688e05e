/**
 * The keys feature's public face. Other features import only from here:
 *   keysRoutes(deps)                 the /api/keys router (mounted in src/app.ts)
 *   onKeysChanged(deps, f)           f(event) after COMMIT whenever a user's device list changes
 *                                    (the WS hub fans it out to the owner's contacts)
 *   mayFetchKeysOf(db, viewer, owner)
 *   deviceRegisteredCondition(u, d)  SQL "u has device d registered", to fold into a statement
 *   deviceRegisteredConditionOn(uCol, dCol)  the same over columns (SQL text; batched sends)
 *   isDeviceRegistered(db, u, d)     the same as a query (explaining a refusal)
 *   setKeyFetchLimits(deps, limits)  drain-guard budgets (tests, operators)
 */
import type { AppDeps } from "../../deps.ts";
import type { KeysChangedEvent } from "./events.ts";
import { keysKernelOf } from "./kernel.ts";

export { keysRoutes } from "./routes.ts";
export { mayFetchKeysOf, accessOwnDevice } from "./access.ts";
export { deviceRegisteredCondition, deviceRegisteredConditionOn, isDeviceRegistered } from "./queries.ts";
export { DEFAULT_KEY_FETCH_LIMITS, setKeyFetchLimits, type KeyFetchLimits } from "./kernel.ts";
export { MAX_DEVICES, MAX_STORED_ONE_TIME_PREKEYS } from "./service.ts";
export { fingerprintOf, serverIdentitySignedBytes, SERVER_IDENTITY_CHALLENGE_LENGTH } from "./server-identity.ts";
export type { KeysChangedEvent, KeysLowEvent } from "./events.ts";

/** Subscribe to device-list changes (after COMMIT); returns the unsubscribe function. */
export function onKeysChanged(deps: AppDeps, listener: (event: KeysChangedEvent) => void): () => void {
  const { listeners } = keysKernelOf(deps);
  listeners.add(listener);
  return () => listeners.delete(listener);
}
