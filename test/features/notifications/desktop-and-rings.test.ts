/**
 * The other ways the notification rule reaches people (issue 13 §5, issue 14 §6):
 *  - a user with an open tab gets one `notify:message` frame on their user topic (the tab shows
 *    the desktop notification) instead of a push, decided by the same settings: who, where and
 *    how many, no text, no ciphertext; nothing for the sender, nothing when the rule says no;
 *  - a change of notification settings (API or page) tells the user's open tabs (`notify:settings`);
 *  - a DM call ringing someone with no open tab sends them a push "call" (no call secrets), and
 *    none when they have a tab open (the tab rings) or do-not-disturb is on.
 * Against the real push service on loopback (test/helpers/push-service.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { startPushService, type TestPushService } from "../../helpers/push-service.ts";
import { pushSettled, type CallPushPayload, type NotifyFrame } from "../../../src/features/notifications/index.ts";
import { expectOk, framesUntilSentinel, join, newMember, socketOf, voiceContext, voiceWorld, type Client, type VoiceWorld } from "../voice/helpers.ts";
import type { Frame, TestSocket } from "../../helpers/ws.ts";
import { openDm, PLAINTEXT_MARKER, send, subscribe, vapidEnv, waitForSockets } from "./helpers.ts";

let ctx: TestContext & { wsUrl: string };
let service: TestPushService;
let w: VoiceWorld;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  service = startPushService();
  ctx = await voiceContext({ env: vapidEnv() });
  w = await voiceWorld(ctx);
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await pushSettled(ctx?.deps ?? {});
  await ctx?.close();
  await service?.stop();
});

async function socket(c: Client): Promise<TestSocket> {
  const s = await socketOf(ctx, c);
  sockets.push(s);
  await waitForSockets(ctx, c.user.id, true);
  return s;
}

/** Everything the socket received once the notifications started so far are decided. */
async function settledFrames(s: TestSocket, c: Client): Promise<Frame[]> {
  await pushSettled(ctx.deps);
  return framesUntilSentinel(ctx, s, c.user.id);
}
const notices = (frames: Frame[]) => frames.filter((f) => f.type === "notify:message") as unknown as NotifyFrame[];

describe("desktop notifications: a frame to open tabs, decided like a push", () => {
  test("Bob with a tab open: one notify:message for Alice's DM on each of his sockets, with who/where/count and no text or ciphertext; no push; nothing for Alice", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const dmId = await openDm(alice, bob);
    await subscribe(bob, service);
    const [laptop, phone, aliceTab] = [await socket(bob), await socket(bob), await socket(alice)];
    const pushesBefore = service.received.length;
    const { ciphertext } = await send(alice, dmId, "pw");
    for (const s of [laptop, phone]) {
      const frames = notices(await settledFrames(s, bob));
      expect(frames).toHaveLength(1);
      expect(frames[0]).toMatchObject({ type: "notify:message", kind: "dm", channelId: dmId, communityId: null, senderId: alice.user.id, channelName: null, mention: false, count: 1, url: `/dms/${dmId}` });
      expect(typeof frames[0]!.messageId).toBe("string");
      expect(typeof frames[0]!.senderName).toBe("string");
      const raw = JSON.stringify(frames[0]);
      for (const forbidden of [PLAINTEXT_MARKER, ciphertext.slice(0, 24)]) expect(raw).not.toContain(forbidden);
    }
    expect(notices(await settledFrames(aliceTab, alice))).toEqual([]);
    expect(service.received.length).toBe(pushesBefore);
  });

  test("the same rule: a mentions-only channel notifies a mention, not a plain message; do-not-disturb and a mute silence it; no push setup needed", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const tab = await socket(bob);
    await send(alice, w.generalChannelId, "sk");
    expect(notices(await settledFrames(tab, bob))).toEqual([]);
    await send(alice, w.generalChannelId, "sk", { mentions: [bob.user.id] });
    const mention = notices(await settledFrames(tab, bob));
    expect(mention).toHaveLength(1);
    expect(mention[0]).toMatchObject({ kind: "channel", mention: true, channelId: w.generalChannelId, communityId: w.communityId, url: `/c/${w.communityId}/ch/${w.generalChannelId}` });

    await expectOk(bob.call("PUT", "/api/notifications/settings", { dnd: true }));
    await send(alice, w.generalChannelId, "sk", { mentions: [bob.user.id] });
    expect(notices(await settledFrames(tab, bob))).toEqual([]);
    await expectOk(bob.call("PUT", "/api/notifications/settings", { dnd: false }));
    await expectOk(bob.call("PUT", `/api/communities/${w.communityId}/notifications`, { mute: "1h" }));
    await send(alice, w.generalChannelId, "sk", { mentions: [bob.user.id] });
    expect(notices(await settledFrames(tab, bob))).toEqual([]);
  });

  test("a channel the user cannot read notifies nothing, even with 'all messages' and a mention", async () => {
    const bob = await newMember(ctx, w);
    const hidden = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "staff-only", kind: "text" }), 201);
    await expectOk(w.owner.call("PUT", `/api/channels/${hidden.id}/overrides`, { base_role: "member", allow: [], deny: ["view_channel"] }), 204);
    await expectOk(bob.call("PUT", "/api/notifications/settings", { level: "all" }));
    const tab = await socket(bob);
    await send(w.owner, hidden.id, "sk", { mentions: [bob.user.id] }).catch(() => null);
    await send(w.owner, w.generalChannelId, "sk");
    const frames = notices(await settledFrames(tab, bob));
    expect(frames.map((f) => f.channelId)).toEqual([w.generalChannelId]);
  });
});

describe("settings changes reach the user's open tabs", () => {
  test("a change over the API or the settings page sends notify:settings to every socket of that user only", async () => {
    const [bob, carol] = [await newMember(ctx, w), await newMember(ctx, w)];
    const [laptop, phone, other] = [await socket(bob), await socket(bob), await socket(carol)];
    await expectOk(bob.call("PUT", "/api/notifications/settings", { level: "all" }));
    await expectOk(bob.call("PUT", `/api/channels/${w.generalChannelId}/notifications`, { level: "none" }));
    for (const s of [laptop, phone]) expect((await framesUntilSentinel(ctx, s, bob.user.id)).filter((f) => f.type === "notify:settings")).toHaveLength(2);
    expect((await framesUntilSentinel(ctx, other, carol.user.id)).filter((f) => f.type === "notify:settings")).toEqual([]);
  });
});

describe("a DM call's ring reaches a closed tab through push", () => {
  async function ringFrom(alice: Client, channelId: string): Promise<void> {
    const aS = await socket(alice);
    expect((await join(aS, channelId)).type).toBe("voice:joined");
    aS.send({ type: "voice:ring", channelId, ref: "r1" });
    for (;;) {
      const f = await aS.nextFrame(5_000);
      if (f.ref === "r1") {
        expect(f.type).toBe("voice:ringing");
        break;
      }
    }
  }

  test("Bob with no tab open: one push 'call' naming Alice and the DM, with nothing of the call; none with do-not-disturb", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const dmId = await openDm(alice, bob);
    const sub = await subscribe(bob, service);
    const before = service.received.length;
    await ringFrom(alice, dmId);
    await pushSettled(ctx.deps);
    const pushes = service.received.slice(before).filter((p) => p.subscription === sub.id);
    expect(pushes).toHaveLength(1);
    const payload = JSON.parse(pushes[0]!.text) as CallPushPayload;
    expect(payload).toMatchObject({ v: 1, type: "call", kind: "dm", channel_id: dmId, sender_id: alice.user.id, channel_name: null, url: `/dms/${dmId}` });
    expect(typeof payload.sender_name).toBe("string");
    expect(Object.keys(payload).sort()).toEqual(["channel_id", "channel_name", "expires_at", "kind", "sender_id", "sender_name", "type", "url", "v"]);

    await expectOk(bob.call("PUT", "/api/notifications/settings", { dnd: true }));
    const carol = await newMember(ctx, w);
    const dm2 = await openDm(carol, bob);
    const before2 = service.received.length;
    await ringFrom(carol, dm2);
    await pushSettled(ctx.deps);
    expect(service.received.slice(before2).filter((p) => p.subscription === sub.id)).toEqual([]);
  });

  test("Bob with a tab open is rung there: no push", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const dmId = await openDm(alice, bob);
    const sub = await subscribe(bob, service);
    const tab = await socket(bob);
    const before = service.received.length;
    await ringFrom(alice, dmId);
    expect((await settledFrames(tab, bob)).some((f) => f.type === "voice:ring" && f.channelId === dmId)).toBe(true);
    expect(service.received.slice(before).filter((p) => p.subscription === sub.id)).toEqual([]);
  });
});
