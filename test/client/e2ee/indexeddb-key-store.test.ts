// Runs the bundled library in headless Chromium to exercise what Bun cannot: the IndexedDB key
// store with its non-extractable wrapping key, and WebCrypto AES-GCM attachments in a browser.
// Skipped, with a printed reason, when Chromium is not installed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import type * as E2ee from "../../../src/client/e2ee/index.ts";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) console.log(`skipping browser key-store tests: no Chromium at ${CHROMIUM}`);

type BrowserWindow = typeof globalThis & { e2ee: typeof E2ee };

describe.skipIf(!available)("in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let server: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    const build = await Bun.build({ entrypoints: [`${import.meta.dir}/../../../src/client/e2ee/index.ts`], target: "browser", format: "esm", minify: true });
    const bundle = await build.outputs[0]!.text();
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/e2ee.js") return new Response(bundle, { headers: { "content-type": "text/javascript" } });
        if (path === "/entry.js") {
          return new Response('import * as e2ee from "/e2ee.js"; window.e2ee = e2ee;', { headers: { "content-type": "text/javascript" } });
        }
        return new Response('<!doctype html><script type="module" src="/entry.js"></script>', { headers: { "content-type": "text/html" } });
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForFunction(() => "e2ee" in window);
  });

  afterAll(async () => {
    await browser?.close();
    server?.stop(true);
  });

  test("IndexedDbKeyStore encrypts at rest under a non-extractable key", async () => {
    const result = await page.evaluate(async () => {
      const { IndexedDbKeyStore } = (window as unknown as BrowserWindow).e2ee;
      const store = await IndexedDbKeyStore.open("hearth-e2ee-test");
      await store.put("session/bob/b1", '{"secret":"plaintext-marker"}');
      await store.put("session/carol/c1", '{"other":1}');
      await store.put("identity", "{}");
      const reopened = await IndexedDbKeyStore.open("hearth-e2ee-test");
      const value = await reopened.get("session/bob/b1");
      const names = (await reopened.listNames("session/")).sort();
      await reopened.delete("session/carol/c1");
      const afterDelete = await reopened.get("session/carol/c1");

      // Look at the raw database the way a thief with a copy of the profile would.
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open("hearth-e2ee-test");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const get = <T>(storeName: string, key: string) =>
        new Promise<T>((resolve, reject) => {
          const request = db.transaction(storeName).objectStore(storeName).get(key);
          request.onsuccess = () => resolve(request.result as T);
          request.onerror = () => reject(request.error);
        });
      const raw = await get<{ iv: Uint8Array; ciphertext: Uint8Array }>("records", "session/bob/b1");
      const rawText = new TextDecoder().decode(raw.ciphertext);
      const wrappingKey = await get<CryptoKey>("meta", "wrapping-key");
      let exportRefused = false;
      try {
        await crypto.subtle.exportKey("raw", wrappingKey);
      } catch {
        exportRefused = true;
      }
      // Moving a record under another name fails: the name is associated data.
      await new Promise<void>((resolve, reject) => {
        const request = db.transaction("records", "readwrite").objectStore("records").put(raw, "identity");
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      });
      let swapRefused = false;
      try {
        await reopened.get("identity");
      } catch {
        swapRefused = true;
      }
      db.close();
      return { value, names, afterDelete, leaked: rawText.includes("plaintext-marker"), extractable: wrappingKey.extractable, exportRefused, swapRefused };
    });
    expect(result.value).toBe('{"secret":"plaintext-marker"}');
    expect(result.names).toEqual(["session/bob/b1", "session/carol/c1"]);
    expect(result.afterDelete).toBeUndefined();
    expect(result.leaked).toBe(false);
    expect(result.extractable).toBe(false);
    expect(result.exportRefused).toBe(true);
    expect(result.swapRefused).toBe(true);
  });

  test("an X3DH session and a streamed attachment work in the browser", async () => {
    const result = await page.evaluate(async () => {
      const e = (window as unknown as BrowserWindow).e2ee;
      const now = Date.now();
      const alice = e.createDeviceIdentity({ userId: "alice", deviceId: "a1", now });
      const bob = e.createDeviceIdentity({ userId: "bob", deviceId: "b1", now });
      const pub = e.exportDevicePublicBundle(bob);
      const bundle = e.parsePrekeyBundle({ ...e.encodePrekeyBundle({ userId: "bob", deviceId: "b1", signingKey: pub.signingKey, identityKey: pub.identityKey, signedPrekey: pub.signedPrekey, oneTimePrekey: pub.oneTimePrekeys[0]! }) });
      const session = e.startSessionAsInitiator(alice, bundle);
      const first = e.encryptRatchetMessage(session.ratchet, e.encodeUtf8("hello from chromium"));
      const accepted = e.acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, e.parseRatchetMessage(JSON.stringify(e.encodeRatchetMessage(first.message))));
      const key = e.generateAttachmentKey();
      const data = new Uint8Array(200_000).map((_, i) => i & 0xff);
      const encrypted = await e.encryptAttachmentStream(key, new Blob([data]).stream());
      const ciphertext = new Uint8Array(await new Response(encrypted.stream).arrayBuffer());
      const decrypted = new Uint8Array(await new Response(await e.decryptAttachmentStream(key, encrypted.header, new Blob([ciphertext]).stream())).arrayBuffer());
      const same = decrypted.length === data.length && decrypted.every((b, i) => b === data[i]);
      return { text: e.decodeUtf8(accepted.plaintext), ciphertextLength: ciphertext.length, same };
    });
    expect(result.text).toBe("hello from chromium");
    expect(result.ciphertextLength).toBe(200_000 + 4 * 16);
    expect(result.same).toBe(true);
  });
});
