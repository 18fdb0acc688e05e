// The QR encoder for the safety-number screen (src/client/chat/trust-ui.ts), a bundle of its own
// (qr.js): `qrcode` is CommonJS, and inside chat.js's chunks its module wrapper would make Bun
// split a runtime chunk that chat.js imports statically. scripts/build.ts builds it before
// chat.js and hands chat.js its hashed URL (__HEARTH_QR_SRC__); chat.js imports it only when a
// Verify panel opens.
export { create } from "qrcode";
