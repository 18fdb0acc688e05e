// Browser KeyStore on IndexedDB. Ratchet math runs in @noble (WebCrypto has no X25519 ratchet we
// could keep non-extractable), so private keys exist as bytes in memory while in use. At rest we
// encrypt every value with an AES-256-GCM key that WebCrypto generated as non-extractable: the
// CryptoKey object is stored in IndexedDB (structured clone), and its raw bytes can never be read
// by script, so a copied IndexedDB file or a dump of stored values is useless without this
// browser profile's key. Each value's name is bound as associated data, so values cannot be
// swapped between records. Not runnable in Bun (no indexedDB); exercised by browser tests.

import type { KeyStore } from "./key-store.ts";
import { concatBytes, decodeUtf8, encodeUtf8, randomBytes } from "./bytes.ts";
import { E2eeError } from "./errors.ts";

const RECORDS = "records";
const META = "meta";
const WRAPPING_KEY_NAME = "wrapping-key";

interface StoredRecord {
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

function promisify<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDatabase(name: string): Promise<IDBDatabase> {
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    request.result.createObjectStore(RECORDS);
    request.result.createObjectStore(META);
  };
  return promisify(request);
}

export class IndexedDbKeyStore implements KeyStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly wrappingKey: CryptoKey,
  ) {}

  static async open(databaseName = "hearth-e2ee"): Promise<IndexedDbKeyStore> {
    const db = await openDatabase(databaseName);
    const tx = db.transaction(META, "readonly");
    let key = (await promisify(tx.objectStore(META).get(WRAPPING_KEY_NAME))) as CryptoKey | undefined;
    if (!key) {
      key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      // `add`, not `put`: if another tab won the race, keep its key and use that one.
      try {
        await promisify(db.transaction(META, "readwrite").objectStore(META).add(key, WRAPPING_KEY_NAME));
      } catch {
        key = (await promisify(db.transaction(META, "readonly").objectStore(META).get(WRAPPING_KEY_NAME))) as CryptoKey;
      }
    }
    return new IndexedDbKeyStore(db, key);
  }

  async get(name: string): Promise<string | undefined> {
    const record = (await promisify(this.db.transaction(RECORDS, "readonly").objectStore(RECORDS).get(name))) as StoredRecord | undefined;
    if (!record) return undefined;
    try {
      const plaintext = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: record.iv as Uint8Array<ArrayBuffer>, additionalData: encodeUtf8(name) as Uint8Array<ArrayBuffer> },
        this.wrappingKey,
        record.ciphertext as Uint8Array<ArrayBuffer>,
      );
      return decodeUtf8(new Uint8Array(plaintext));
    } catch {
      throw new E2eeError("DECRYPT_FAILED", `stored value ${name} failed authentication`);
    }
  }

  async put(name: string, value: string): Promise<void> {
    const iv = randomBytes(12) as Uint8Array<ArrayBuffer>;
    const ciphertext = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encodeUtf8(name) as Uint8Array<ArrayBuffer> },
      this.wrappingKey,
      encodeUtf8(value) as Uint8Array<ArrayBuffer>,
    );
    const record: StoredRecord = { iv, ciphertext: concatBytes(new Uint8Array(ciphertext)) };
    await promisify(this.db.transaction(RECORDS, "readwrite").objectStore(RECORDS).put(record, name));
  }

  async delete(name: string): Promise<void> {
    await promisify(this.db.transaction(RECORDS, "readwrite").objectStore(RECORDS).delete(name));
  }

  async listNames(prefix: string): Promise<string[]> {
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const keys = await promisify(this.db.transaction(RECORDS, "readonly").objectStore(RECORDS).getAllKeys(range));
    return keys.filter((k): k is string => typeof k === "string");
  }
}
