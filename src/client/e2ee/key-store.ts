// Persistence interface for serialised E2EE state. Values are JSON strings; implementations
// decide how they are protected at rest (the IndexedDB one encrypts every value).

export interface KeyStore {
  get(name: string): Promise<string | undefined>;
  put(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Names starting with `prefix`, in no particular order. */
  listNames(prefix: string): Promise<string[]>;
}

/** For tests and for ephemeral sessions; nothing survives a reload. */
export class MemoryKeyStore implements KeyStore {
  private readonly values = new Map<string, string>();

  async get(name: string): Promise<string | undefined> {
    return this.values.get(name);
  }
  async put(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
  async listNames(prefix: string): Promise<string[]> {
    return [...this.values.keys()].filter((name) => name.startsWith(prefix));
  }
}
