// Public API of the browser E2EE library (the e2ee.js bundle, tests, the soak): library.ts and
// the safety numbers. chat.js imports library.ts, leaving safety numbers to its lazy Verify chunk.
export * from "./library.ts";
export * from "./safety-numbers.ts";
