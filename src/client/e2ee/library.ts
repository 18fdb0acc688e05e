// The browser E2EE library without the safety numbers (index.ts adds them): chat.js imports
// this, so the safety-number code reaches only its lazy Verify chunk (safety-numbers-core.ts).
// Public API of the browser E2EE library. Wire formats live in src/shared/e2ee (the server
// validates with the same code); everything here runs only on user devices.

export * from "../../shared/e2ee/index.ts";
export * from "./attachments.ts";
export { concatBytes, decodeUtf8, encodeUtf8, equalBytes, randomBytes } from "./bytes.ts";
export * from "./device-identity.ts";
export * from "./double-ratchet.ts";
export * from "./errors.ts";
export * from "./indexeddb-key-store.ts";
export * from "./key-backup.ts";
export * from "./key-store.ts";
export * from "./message-key-archive.ts";
export * from "./pairwise-session.ts";
export * from "./ratchet-state-codec.ts";
export * from "./recovery-key.ts";
export * from "./sender-key-store.ts";
export * from "./sender-keys.ts";
export * from "./trust-store.ts";
export * from "./x3dh.ts";
