// Where the search index lives at rest (docs/search.md): one IndexedDB database per user,
// `hearth-search-<userId>`. Two keys are made here by WebCrypto as non-extractable and kept as
// CryptoKey objects (structured clone; their bytes can never be read by script, as the E2EE key
// store's wrapping key, src/client/e2ee/indexeddb-key-store.ts): an AES-256-GCM key that
// encrypts every stored record (its name bound as associated data), and an HMAC-SHA-256 key,
// the per-user secret that turns each word into the opaque key the postings are filed under.

const META = "meta";
const RECORDS = "records";

function promisify<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

type Sealed = { iv: Uint8Array; ct: ArrayBuffer };
const enc = new TextEncoder();
const dec = new TextDecoder();

export class Vault {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly aes: CryptoKey,
    private readonly hmac: CryptoKey,
  ) {}

  static async open(name: string): Promise<Vault> {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(META);
      request.result.createObjectStore(RECORDS);
    };
    const db = await promisify(request);
    const key = async (id: string, make: () => Promise<CryptoKey>): Promise<CryptoKey> => {
      const found = (await promisify(db.transaction(META).objectStore(META).get(id))) as CryptoKey | undefined;
      if (found) return found;
      const made = await make();
      try {
        await promisify(db.transaction(META, "readwrite").objectStore(META).add(made, id)); // another tab may have won
        return made;
      } catch {
        return (await promisify(db.transaction(META).objectStore(META).get(id))) as CryptoKey;
      }
    };
    const aes = await key("aes", () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]));
    const hmac = await key("hmac", () => crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
    return new Vault(db, aes, hmac);
  }

  /** A word's key: the first 9 bytes of HMAC-SHA-256(secret, word), base64 (12 characters). */
  async wordKey(word: string): Promise<string> {
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", this.hmac, enc.encode(word)), 0, 9);
    return btoa(String.fromCharCode(...mac));
  }

  async put(name: string, value: unknown): Promise<void> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(name) }, this.aes, enc.encode(JSON.stringify(value)));
    await promisify(this.db.transaction(RECORDS, "readwrite").objectStore(RECORDS).put({ iv, ct } satisfies Sealed, name));
  }

  async delete(name: string): Promise<void> {
    await promisify(this.db.transaction(RECORDS, "readwrite").objectStore(RECORDS).delete(name));
  }

  async get<T>(name: string): Promise<T | undefined> {
    const sealed = (await promisify(this.db.transaction(RECORDS).objectStore(RECORDS).get(name))) as Sealed | undefined;
    return sealed ? this.open<T>(name, sealed) : undefined;
  }

  /** Records whose names start with `prefix`, `batch` at a time (each batch one read). */
  async *each<T>(prefix: string, batch = 16): AsyncGenerator<[string, T]> {
    let lower: IDBKeyRange = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    for (;;) {
      const store = this.db.transaction(RECORDS).objectStore(RECORDS);
      const [keys, values] = await Promise.all([promisify(store.getAllKeys(lower, batch)), promisify(store.getAll(lower, batch))]);
      for (let i = 0; i < keys.length; i++) {
        const name = String(keys[i]);
        yield [name, await this.open<T>(name, values[i] as Sealed)];
      }
      if (keys.length < batch) return;
      lower = IDBKeyRange.bound(String(keys[keys.length - 1]), `${prefix}\uffff`, true);
    }
  }

  private async open<T>(name: string, sealed: Sealed): Promise<T> {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv as Uint8Array<ArrayBuffer>, additionalData: enc.encode(name) }, this.aes, sealed.ct);
    return JSON.parse(dec.decode(plain)) as T;
  }
}
