// The notification rule itself (src/features/notifications/settings.ts `decide`), case by case:
// do-not-disturb (setting or presence status) and mutes silence everything; the most specific
// level wins; defaults notify DMs and mentions only. No database: the rule is a pure function.
import { describe, expect, test } from "bun:test";
import { decide, DEFAULT_PREFERENCES, MUTE_FOREVER, muteUntil, type NotifyEvent } from "../../../src/features/notifications/settings.ts";

const now = new Date("2026-12-07T12:00:00Z");
const channel = (mentioned: boolean): NotifyEvent => ({ kind: "message", channelId: "c", communityId: "k", dm: false, mentioned });
const dm = (mentioned = false): NotifyEvent => ({ kind: "message", channelId: "d", communityId: null, dm: true, mentioned });
const past = new Date(now.getTime() - 1000);

describe("decide", () => {
  test("defaults: DMs and mentions notify, plain channel messages do not", () => {
    expect([decide(DEFAULT_PREFERENCES, undefined, undefined, dm(), now), decide(DEFAULT_PREFERENCES, undefined, undefined, channel(true), now), decide(DEFAULT_PREFERENCES, undefined, undefined, channel(false), now)]).toEqual([true, true, false]);
  });

  test("the channel's level beats the community's, which beats the user's", () => {
    const prefs = { ...DEFAULT_PREFERENCES, level: "none" as const };
    expect(decide(prefs, { level: "all", mutedUntil: null }, undefined, channel(false), now)).toBe(true);
    expect(decide(prefs, { level: "all", mutedUntil: null }, { level: "mentions", mutedUntil: null }, channel(false), now)).toBe(false);
    expect(decide(prefs, { level: "none", mutedUntil: null }, { level: "all", mutedUntil: null }, channel(false), now)).toBe(true);
    expect(decide({ ...DEFAULT_PREFERENCES, dmLevel: "mentions" }, undefined, undefined, dm(false), now)).toBe(false);
    expect(decide({ ...DEFAULT_PREFERENCES, dmLevel: "mentions" }, undefined, undefined, dm(true), now)).toBe(true);
  });

  test("do-not-disturb, the presence status dnd, and any mute in force silence everything; an expired mute does not", () => {
    const all = { ...DEFAULT_PREFERENCES, level: "all" as const };
    expect(decide({ ...all, dnd: true }, undefined, undefined, dm(true), now)).toBe(false);
    expect(decide(all, undefined, undefined, dm(true), now, true)).toBe(false);
    expect(decide({ ...all, mutedUntil: muteUntil("1h", now) }, undefined, undefined, dm(true), now)).toBe(false);
    expect(decide(all, { level: null, mutedUntil: MUTE_FOREVER }, undefined, channel(true), now)).toBe(false);
    expect(decide(all, undefined, { level: "all", mutedUntil: muteUntil("8h", now) }, channel(true), now)).toBe(false);
    expect(decide(all, undefined, { level: null, mutedUntil: past }, channel(false), now)).toBe(true);
  });

  test("mute choices: 1 h, 8 h, 24 h from now, forever, off", () => {
    expect(["1h", "8h", "24h"].map((c) => (muteUntil(c as "1h", now)!.getTime() - now.getTime()) / 3_600_000)).toEqual([1, 8, 24]);
    expect(muteUntil("forever", now)).toEqual(MUTE_FOREVER);
    expect(muteUntil("off", now)).toBeNull();
  });
});
