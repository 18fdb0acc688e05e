// Wire formats shared by the server (validation) and the browser client. Pure: no server or
// framework imports, because this ships in the browser bundle.
export * from "./attachment-header.ts";
export * from "./base64url.ts";
export * from "./constants.ts";
export * from "./device-bundle.ts";
export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./key-backup-blob.ts";
export * from "./ratchet-message.ts";
export * from "./sender-key-messages.ts";
export { validateId } from "./fields.ts";
