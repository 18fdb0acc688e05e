import { describe, expect, test } from "bun:test";
import { MemoryKeyStore, restorePairwiseSession, serialisePairwiseSession, decryptRatchetMessage, encryptRatchetMessage, encodeUtf8, decodeUtf8 } from "../../../src/client/e2ee/index.ts";
import { createDevice, establishSessions } from "./test-helpers.ts";

describe("browser bundle", () => {
  test("the whole library bundles for the browser within 40 KiB gzip, without server code", async () => {
    const result = await Bun.build({ entrypoints: [`${import.meta.dir}/../../../src/client/e2ee/index.ts`], target: "browser", format: "esm", minify: true });
    expect(result.success).toBe(true);
    const text = await result.outputs[0]!.text();
    const gzip = Bun.gzipSync(new TextEncoder().encode(text)).length;
    console.log(`bundle: ${text.length} bytes minified, ${gzip} bytes gzip`);
    expect(gzip).toBeLessThanOrEqual(40 * 1024);
    for (const forbidden of ["elysia", "typebox", "Math.random"]) expect(text.includes(forbidden)).toBe(false);
  });
});

describe("shared wire formats stay browser-safe", () => {
  test("src/shared/e2ee imports only its own files and @noble", async () => {
    const dir = `${import.meta.dir}/../../../src/shared/e2ee`;
    const files = [...new Bun.Glob("*.ts").scanSync(dir)];
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const source = await Bun.file(`${dir}/${file}`).text();
      for (const match of source.matchAll(/from\s+"([^"]+)"/g)) {
        expect(match[1]!.startsWith("./") || match[1]!.startsWith("@noble/")).toBe(true);
      }
    }
  });
});

describe("MemoryKeyStore", () => {
  test("stores, lists by prefix, deletes; a session persisted through it keeps working", async () => {
    const store = new MemoryKeyStore();
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    await store.put("session/bob/b1", JSON.stringify(serialisePairwiseSession(aliceSession)));
    await store.put("session/carol/c1", "{}");
    await store.put("identity", "{}");
    expect((await store.listNames("session/")).sort()).toEqual(["session/bob/b1", "session/carol/c1"]);
    const restored = restorePairwiseSession(JSON.parse((await store.get("session/bob/b1"))!));
    const m = encryptRatchetMessage(restored.ratchet, encodeUtf8("after reload"));
    expect(decodeUtf8(decryptRatchetMessage(bobSession.ratchet, m.message).plaintext)).toBe("after reload");
    await store.delete("session/carol/c1");
    expect(await store.get("session/carol/c1")).toBeUndefined();
    expect(await store.listNames("session/")).toEqual(["session/bob/b1"]);
  });
});
