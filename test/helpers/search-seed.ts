// Seeding a long encrypted history quickly (test/e2e/search.test.ts): a Device of the real chat
// engine under Bun (engines.ts) sends once, which gives its Sender Key to the channel's readers;
// then its own key, copied out of its key store, encrypts `texts` with the real client library
// and the rows go into the database in bulk (the server would store the same bytes). The advanced
// key is written back, so the Device's next send continues the chain.
import { sql } from "kysely";
import { encodeSenderKeyMessage, encryptGroupMessage, restoreSenderKeyStore, serialiseSenderKeyStore } from "../../src/client/e2ee/library.ts";
import { STATE_RECORD } from "../../src/client/chat/engine-state.ts";
import { encodeChatPlaintext } from "../../src/client/chat/plaintext.ts";
import type { TestContext } from "./app.ts";
import type { Device } from "./engines.ts";

export async function seedSenderKeyHistory(ctx: TestContext, device: Device, channelId: string, texts: string[]): Promise<void> {
  await device.send(channelId, "the first message of a long history");
  const state = JSON.parse((await device.store.get(STATE_RECORD))!);
  const keys = restoreSenderKeyStore(state.senderKeys);
  const own = keys.own.get(channelId);
  if (!own) throw new Error("the device holds no sender key for the channel");
  const db = ctx.database.db;
  const last = await db.selectFrom("channels").select("last_seq").where("id", "=", channelId).executeTakeFirstOrThrow();
  let seq = Number(last.last_seq);
  const start = Date.now() - texts.length * 1000;
  for (let i = 0; i < texts.length; i += 500) {
    const rows = texts.slice(i, i + 500).map((text, k) => ({
      id: crypto.randomUUID(),
      channel_id: channelId,
      seq: ++seq,
      sender_id: device.userId,
      sender_device_id: device.engine.deviceId,
      client_id: crypto.randomUUID(),
      scheme: "sk",
      ciphertext: encodeSenderKeyMessage(encryptGroupMessage(own, device.engine.deviceId, encodeChatPlaintext(text)).message),
      created_at: new Date(start + (i + k) * 1000),
    }));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await db.insertInto("messages").values(rows as any).execute();
  }
  await db.updateTable("channels").set({ last_seq: sql`${seq}` }).where("id", "=", channelId).execute();
  state.senderKeys = serialiseSenderKeyStore(keys);
  await device.store.put(STATE_RECORD, JSON.stringify(state));
}
