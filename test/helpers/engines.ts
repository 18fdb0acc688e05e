// The real browser chat engine (src/client/chat/engine.ts) driven under Bun, one per simulated
// user: an in-memory key store instead of IndexedDB, and the app's own request handler with the
// user's bearer token instead of the page's cookies. The same code paths as the browser for
// encryption, viewer lists, sends, to-device key distribution and key requests (issue 11).
import { createApi } from "../../src/client/chat/api.ts";
import { ChatEngine } from "../../src/client/chat/engine.ts";
import { encryptAndSend, type SendTarget } from "../../src/client/chat/sender.ts";
import type { ChatMessage, Scheme } from "../../src/client/chat/types.ts";
import { normaliseMessage } from "../../src/client/chat/types.ts";
import { Viewers } from "../../src/client/chat/viewers.ts";
import { MemoryKeyStore } from "../../src/client/e2ee/index.ts";
import type { TestContext } from "./app.ts";
import { signIn } from "./users.ts";

export type Device = {
  userId: string;
  engine: ChatEngine;
  /** Its key store: open another Device on it to model a reload of the same browser. */
  store: MemoryKeyStore;
  /** A conversation as this user's page would hold it (its readers kept as the server lists them). */
  target(channelId: string, scheme?: Scheme): SendTarget;
  send(channelId: string, text: string, scheme?: Scheme): Promise<ChatMessage>;
  /** Reads a message as the page does: the to-device queue first, then decrypt. */
  read(message: ChatMessage): Promise<Awaited<ReturnType<ChatEngine["decrypt"]>>>;
  /** The channel's history as this user may fetch it, oldest first. */
  history(channelId: string, limit?: number): Promise<ChatMessage[]>;
};

/**
 * A new device (fresh key store, registered through the key service) for `user`; with `store`,
 * the same device reopened from what it saved (a reload).
 */
export async function openDevice(ctx: TestContext, user: { id: string }, store = new MemoryKeyStore()): Promise<Device> {
  const { headers } = await signIn(ctx, user);
  const api = createApi({ fetch: (url, init) => ctx.request(url, init), headers });
  const engine = await ChatEngine.open(user.id, store, api);
  const targets = new Map<string, SendTarget>();
  const target = (channelId: string, scheme: Scheme = "sk"): SendTarget => {
    let t = targets.get(channelId);
    if (!t) {
      const viewers = new Viewers(channelId, api);
      viewers.onChange((list) => engine.setChannelContext(channelId, list));
      targets.set(channelId, (t = { channelId, scheme, selfId: user.id, viewers, names: new Map() }));
    }
    return t;
  };
  return {
    userId: user.id,
    engine,
    store,
    target,
    send: (channelId, text, scheme = "sk") => encryptAndSend(engine, target(channelId, scheme), { clientId: crypto.randomUUID(), text }),
    async read(message) {
      await engine.processToDevice();
      return engine.decrypt(message);
    },
    async history(channelId, limit = 100) {
      const page = await api.call<{ messages: unknown[] }>("GET", `/api/channels/${channelId}/messages?limit=${limit}`);
      return page.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null).sort((a, b) => a.seq - b.seq);
    },
  };
}

/** Runs `step` until it returns a value (not undefined), at most `tries` times; throws with `what`. */
export async function eventually<T>(what: string, step: () => Promise<T | undefined>, tries = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await step();
    if (value !== undefined) return value;
    await Bun.sleep(25);
  }
  throw new Error(`never: ${what}`);
}
