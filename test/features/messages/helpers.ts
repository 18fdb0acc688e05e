/** Helpers for the messaging tests: a community with sockets, envelopes and sends. */
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { connectWithToken, listen, type TestSocket } from "../../helpers/ws.ts";
import { signIn } from "../../helpers/users.ts";
import { client as communityClient, expectOk, populatedCommunity as communityWithMembers, type Client, type Populated } from "../communities/helpers.ts";
import { setActivityInterval, stopActivity } from "../../../src/features/messages/index.ts";

export { expectOk, type Client, type Populated };

/** The device id sendBody uses: every client made here has it registered. */
export const TEST_DEVICE_ID = "dev1";

/**
 * Registers an E2EE device for the user straight in the database (the send path accepts only a
 * registered, non-revoked sender_device_id; the key material is opaque to it, so zero keys do).
 * The keys tests register real devices through the API.
 */
export async function registerTestDevice(ctx: TestContext, userId: string, deviceId = TEST_DEVICE_ID): Promise<void> {
  const key = new Uint8Array(32);
  await ctx.database.db
    .insertInto("key_devices")
    .values({ user_id: userId, device_id: deviceId, signing_key: key, identity_key: key, signed_prekey_id: 1, signed_prekey: key, signed_prekey_signature: new Uint8Array(64), signed_prekey_updated_at: new Date(), created_at: new Date() })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** A signed-in client with the device TEST_DEVICE_ID registered. */
export async function client(ctx: TestContext, overrides: Parameters<typeof communityClient>[1] = {}): Promise<Client> {
  const c = await communityClient(ctx, overrides);
  await registerTestDevice(ctx, c.user.id);
  return c;
}

/** populatedCommunity of the communities tests, each person with the device TEST_DEVICE_ID registered. */
export async function populatedCommunity(ctx: TestContext, name?: string): Promise<Populated> {
  const p = await communityWithMembers(ctx, name);
  for (const c of [p.owner, p.admin, p.moderator, p.member, p.outsider]) await registerTestDevice(ctx, c.user.id);
  return p;
}

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


/** A fake envelope of `bytes` random bytes, base64url. */
export function envelope(bytes = 64): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

export function sendBody(extra: Record<string, unknown> = {}, scheme: "sk" | "pw" = "sk") {
  return { client_id: crypto.randomUUID(), scheme, ciphertext: envelope(), sender_device_id: TEST_DEVICE_ID, ...extra };
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
export async function nextMessage(socket: TestSocket, timeoutMs = 15_000): Promise<Record<string, any>> {
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
