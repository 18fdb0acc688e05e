/** Helpers for the messaging tests: a community with sockets, envelopes and sends. */
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { connectWithToken, listen, type TestSocket } from "../../helpers/ws.ts";
import { signIn } from "../../helpers/users.ts";
import { client, expectOk, populatedCommunity, type Client, type Populated } from "../communities/helpers.ts";
import { setActivityInterval, stopActivity } from "../../../src/features/messages/index.ts";

export { client, expectOk, type Client, type Populated };

export async function messagingContext(opts: Parameters<typeof createTestContext>[0] = {}): Promise<TestContext> {
  const ctx = await createTestContext({ ...opts, env: { COMMUNITY_CREATION_MODE: "anyone", ...opts.env } });
  setActivityInterval(ctx.deps, 20);
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await stopActivity(ctx.deps);
    await close();
  };
  return ctx;
}

export { populatedCommunity };

/** A fake envelope of `bytes` random bytes, base64url. */
export function envelope(bytes = 64): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

export function sendBody(extra: Record<string, unknown> = {}, scheme: "sk" | "pw" = "sk") {
  return { client_id: crypto.randomUUID(), scheme, ciphertext: envelope(), sender_device_id: "dev1", ...extra };
}

export async function send(c: Client, channelId: string, extra: Record<string, unknown> = {}, scheme: "sk" | "pw" = "sk") {
  return expectOk(c.call("POST", `/api/channels/${channelId}/messages`, sendBody(extra, scheme)), 201).then((b) => b.message);
}

/** Opens a listening socket for this client (a new session: another "device"). */
export async function socketFor(ctx: TestContext, c: Client, wsUrl: string): Promise<TestSocket & { sessionId: string }> {
  const session = await signIn(ctx, c.user);
  const socket = await connectWithToken(wsUrl, session.accessToken);
  return Object.assign(socket, { sessionId: session.sessionId });
}

export async function subscribe(socket: TestSocket, channelIds: string[]): Promise<void> {
  socket.send({ type: "subscribe", channelIds });
  const frame = await socket.nextOfType("subscribed");
  const got = frame.channelIds as string[];
  for (const id of channelIds) if (!got.includes(id)) throw new Error(`not subscribed to ${id}: ${JSON.stringify(socket.received)}`);
}

/** Waits for a message:new with this seq in this channel (skipping other frames). */
export async function nextMessage(socket: TestSocket, timeoutMs = 3_000): Promise<Record<string, any>> {
  const frame = await socket.nextOfType("message:new", timeoutMs);
  return frame.message as Record<string, any>;
}

export async function countMessages(ctx: TestContext): Promise<number> {
  const row = await ctx.database.db.selectFrom("messages").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function withSockets(ctx: TestContext) {
  return listen(ctx);
}
