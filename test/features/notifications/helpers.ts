/** Helpers for the notification tests: VAPID keys, a subscribed client, DMs and sends. */
import webpush from "web-push";
import type { TestContext } from "../../helpers/app.ts";
import type { TestPushService, TestSubscription } from "../../helpers/push-service.ts";
import { presenceOf } from "../../../src/features/presence/index.ts";
import { expectOk, sendBody, type Client } from "../messages/helpers.ts";

/** A fresh VAPID pair and subject, as env values. */
export function vapidEnv(): Record<string, string> {
  const keys = webpush.generateVAPIDKeys();
  return { VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: "mailto:ops@example.com" };
}

/** A message "text" the server must never see: it travels only as the ciphertext's bytes here. */
export const PLAINTEXT_MARKER = "PLAINTEXT-MARKER-push-7f3a";

/** A send body whose ciphertext embeds the marker (a stand-in for encrypted text: the server sees only these bytes). */
export function markedSend(scheme: "sk" | "pw", extra: Record<string, unknown> = {}) {
  const bytes = Buffer.concat([Buffer.from(PLAINTEXT_MARKER), crypto.getRandomValues(new Uint8Array(32))]);
  return sendBody({ ciphertext: bytes.toString("base64url"), ...extra }, scheme);
}

export async function subscribe(c: Client, service: TestPushService): Promise<TestSubscription & { serverId: string }> {
  const sub = service.subscribe();
  const saved = await expectOk(c.call("POST", "/api/push/subscriptions", { endpoint: sub.endpoint, keys: sub.keys, expirationTime: null }), 201);
  return { ...sub, serverId: saved.id };
}

export async function openDm(from: Client, to: Client): Promise<string> {
  return (await expectOk(from.call("POST", "/api/dms", { user_id: to.user.id }))).channel_id as string;
}

export async function send(c: Client, channelId: string, scheme: "sk" | "pw", extra: Record<string, unknown> = {}): Promise<{ ciphertext: string }> {
  const body = markedSend(scheme, extra);
  await expectOk(c.call("POST", `/api/channels/${channelId}/messages`, body), 201);
  return { ciphertext: body.ciphertext };
}

/** Waits (bounded) until the presence store counts the user's sockets as `want` (> 0 or 0). */
export async function waitForSockets(ctx: TestContext, userId: string, online: boolean): Promise<void> {
  const store = presenceOf(ctx.deps)!.store;
  for (let i = 0; i < 200; i++) {
    const n = (await store.counts([userId])).get(userId) ?? 0;
    if (online ? n > 0 : n === 0) return;
    await Bun.sleep(10);
  }
  throw new Error(`sockets of ${userId} never became ${online ? "open" : "closed"}`);
}
