/**
 * Helpers for the voice tests: a community with a voice channel, people with a registered E2EE
 * device and a socket following the channel, and the frames a browser would send.
 */
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { signIn } from "../../helpers/users.ts";
import { connectWithToken, listen, type Frame, type TestSocket } from "../../helpers/ws.ts";
import { expectOk, populatedCommunity, registerTestDevice, TEST_DEVICE_ID, type Client, type Populated } from "../messages/helpers.ts";
import { client as communityClient } from "../communities/helpers.ts";
import { userTopic } from "../../../src/ws/topics.ts";

export { expectOk, TEST_DEVICE_ID, type Client, type Populated };

export async function voiceContext(opts: Parameters<typeof createTestContext>[0] = {}): Promise<TestContext & { wsUrl: string }> {
  const ctx = await createTestContext({ ...opts, env: { COMMUNITY_CREATION_MODE: "anyone", ...opts.env } });
  const { ws } = await listen(ctx);
  return Object.assign(ctx, { wsUrl: ws });
}

export type VoiceWorld = Populated & { voiceId: string; inviteCode: string };

/** The populated community of the communities tests (devices registered) plus a voice channel. */
export async function voiceWorld(ctx: TestContext): Promise<VoiceWorld> {
  const p = await populatedCommunity(ctx);
  const channel = await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "Lounge", kind: "voice" }), 201);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  return { ...p, voiceId: channel.id, inviteCode: invite.code };
}

/** A new member of the world's community, device registered. */
export async function newMember(ctx: TestContext, world: VoiceWorld): Promise<Client> {
  const c = await communityClient(ctx);
  await registerTestDevice(ctx, c.user.id);
  await expectOk(c.call("POST", `/api/community-invites/${world.inviteCode}/accept`));
  return c;
}

/** A socket of this client (API-client auth), following the given channels. */
export async function socketOf(ctx: TestContext & { wsUrl: string }, c: Client, follow: string[] = []): Promise<TestSocket> {
  const token = c.headers.authorization!.slice("Bearer ".length);
  const socket = await connectWithToken(ctx.wsUrl, token);
  if (follow.length > 0) {
    socket.send({ type: "subscribe", channelIds: follow });
    await socket.nextOfType("subscribed");
  }
  return socket;
}

/** A second session (another device) of the same user. */
export async function otherDevice(ctx: TestContext & { wsUrl: string }, c: Client, follow: string[] = []): Promise<TestSocket> {
  const { accessToken } = await signIn(ctx, c.user);
  const socket = await connectWithToken(ctx.wsUrl, accessToken);
  if (follow.length > 0) {
    socket.send({ type: "subscribe", channelIds: follow });
    await socket.nextOfType("subscribed");
  }
  return socket;
}

/** Sends voice:join and returns the answer (or the error frame). */
export async function join(socket: TestSocket, channelId: string, extra: Record<string, unknown> = {}): Promise<Frame> {
  const ref = crypto.randomUUID().slice(0, 8);
  socket.send({ type: "voice:join", channelId, deviceId: TEST_DEVICE_ID, ref, ...extra });
  return nextWithRef(socket, ref);
}

/** The next answer or error carrying this ref (other frames are skipped). */
export async function nextWithRef(socket: TestSocket, ref: string, timeoutMs = 5_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await socket.nextFrame(Math.max(1, deadline - Date.now()));
    if (frame.ref === ref) return frame;
  }
}

/** Reads until a frame matches; throws (listing what came) after the bound. */
export async function nextMatching(socket: TestSocket, predicate: (f: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await socket.nextFrame(Math.max(1, deadline - Date.now()));
    if (predicate(frame)) return frame;
  }
}

/**
 * Everything the socket receives until a sentinel published to its user topic after `act`
 * (delivery is in order per socket): what it got, and proof it got nothing else.
 */
export async function framesUntilSentinel(ctx: TestContext, socket: TestSocket, userId: string): Promise<Frame[]> {
  const marker = crypto.randomUUID();
  ctx.hub.publish(userTopic(userId), { type: "test:sentinel", marker });
  const got: Frame[] = [];
  for (;;) {
    const frame = await socket.nextFrame(5_000);
    if (frame.type === "test:sentinel" && frame.marker === marker) return got;
    got.push(frame);
  }
}

/** Polls the database-backed state until `predicate` holds (bounded). */
export async function eventually<T>(read: () => Promise<T>, predicate: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: condition not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await Bun.sleep(25);
  }
}

/** A plausible SDP offer (the relay checks only its type and size). */
export function fakeSdp(tag = "x", fingerprint = "AA:BB:CC"): string {
  return `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${fingerprint}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=x-tag:${tag}\r\n`;
}
