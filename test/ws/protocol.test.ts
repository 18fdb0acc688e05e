// src/shared/protocol.ts is imported by the browser bundle: it must stay dependency-free and small
// (docs/decisions/0001-ws-frame-validation.md).
import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { resolve } from "node:path";
import { CLIENT_FRAME_TYPES, ERROR_CODES, isViewersChangedFrame, parseServerFrame, validateClientFrame } from "../../src/shared/protocol.ts";

describe("shared protocol module", () => {
  test("bundles for the browser without dependencies (siblings in src/shared only), under 3 KiB gzip", async () => {
    const entry = resolve(import.meta.dir, "../../src/shared/protocol.ts");
    const source = await Bun.file(entry).text();
    expect(source).not.toMatch(/^import\s(?!.*from "\.\/[a-z-]+\.ts";$)/m);
    const build = await Bun.build({ entrypoints: [entry], target: "browser", minify: true });
    expect(build.success).toBe(true);
    const code = await build.outputs[0]!.text();
    expect(gzipSync(code).byteLength).toBeLessThan(3 * 1024);
  });

  test("client frame types are domain:verb or single words; error codes are SCREAMING_SNAKE", () => {
    for (const type of CLIENT_FRAME_TYPES) expect(type).toMatch(/^[a-z]+(:[a-z]+)?$/);
    for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
  });

  test("validation never throws, whatever arrives", () => {
    const hostile: unknown[] = [undefined, null, 0, "", [], {}, { type: null }, { type: "ping", ref: {} }, { type: "subscribe", channelIds: [null] }, { type: "auth", token: "x".repeat(5000) }, Object.create(null)];
    for (const value of hostile) expect(validateClientFrame(value).ok).toBe(false);
  });

  test("parseServerFrame accepts objects with a type and nothing else", () => {
    expect(parseServerFrame('{"type":"pong","serverTime":1}')).toEqual({ type: "pong", serverTime: 1 });
    for (const text of ["", "x", "[]", "{}", '{"type":""}', "null"]) expect(parseServerFrame(text)).toBeNull();
  });

  test("message:send takes fileIds: at most 10 UUIDs; anything else names the field", () => {
    const base = { type: "message:send", channelId: crypto.randomUUID(), clientId: crypto.randomUUID(), scheme: "sk", ciphertext: "QUJD", senderDeviceId: "d1" };
    for (const ok of [undefined, [], [crypto.randomUUID()], Array.from({ length: 10 }, () => crypto.randomUUID())]) expect(validateClientFrame({ ...base, fileIds: ok }).ok).toBe(true);
    for (const bad of [null, "x", [1], ["not-a-uuid"], Array.from({ length: 11 }, () => crypto.randomUUID())]) expect(validateClientFrame({ ...base, fileIds: bad })).toMatchObject({ ok: false, field: "fileIds" });
  });

  test("message:send takes viewerVersion: a whole number ≥ 1, or null; anything else names the field", () => {
    const base = { type: "message:send", channelId: crypto.randomUUID(), clientId: crypto.randomUUID(), scheme: "sk", ciphertext: "QUJD", senderDeviceId: "d1" };
    for (const ok of [undefined, null, 1, 42]) expect(validateClientFrame({ ...base, viewerVersion: ok }).ok).toBe(true);
    for (const bad of [0, -1, 1.5, "3", {}, Number.MAX_SAFE_INTEGER + 2]) expect(validateClientFrame({ ...base, viewerVersion: bad })).toMatchObject({ ok: false, field: "viewerVersion" });
  });

  test("isViewersChangedFrame: a community id or 1–100 channel ids, not both, nothing malformed", () => {
    const id = crypto.randomUUID();
    expect(isViewersChangedFrame({ type: "viewers:changed", communityId: id })).toBe(true);
    expect(isViewersChangedFrame({ type: "viewers:changed", channelIds: [id] })).toBe(true);
    for (const bad of [null, {}, { type: "viewers:changed" }, { type: "viewers:changed", communityId: id, channelIds: [id] }, { type: "viewers:changed", communityId: "x" }, { type: "viewers:changed", channelIds: [] }, { type: "viewers:changed", channelIds: ["x"] }, { type: "viewers:changed", channelIds: Array.from({ length: 101 }, () => id) }, { type: "other", communityId: id }]) {
      expect([bad, isViewersChangedFrame(bad)]).toEqual([bad, false]);
    }
  });
});
