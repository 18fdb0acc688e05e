/**
 * Key sharing between devices (issue 11 §2–3, docs/crypto.md "Shared history" and "Key
 * requests"). The keys themselves travel only in pairwise-encrypted to-device messages between
 * the devices; the server's part is to say who may have a key and whom to ask:
 *   keySharingRoutes(deps)   GET /api/channels/{id}/key-entitlements  may this user read these items?
 *                            GET /api/channels/{id}/key-holders       a few other readers' devices to ask
 */
export { keySharingRoutes } from "./routes.ts";
export { checkKeyEntitlements, MAX_ENTITLEMENT_ITEMS, type Entitlements } from "./entitlements.ts";
export { listKeyHolders, MAX_HOLDER_DEVICES, MAX_HOLDER_USERS } from "./holders.ts";
