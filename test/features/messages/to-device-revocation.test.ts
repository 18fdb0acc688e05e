/**
 * A device revoked while keys are being queued for it: each to-device call either queues (and the
 * revocation's cascade then drops what it queued) or answers 404 DEVICE_NOT_FOUND naming the
 * entry; never a 500. The race was real: the call checked the device, the revocation committed,
 * and the INSERT failed on the foreign key (INTERNAL_ERROR). Rounds run the two concurrently; on
 * PostgreSQL they interleave through the pool, on PGlite they serialise (the answer rule holds
 * either way).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { TO_DEVICE_MESSAGE_RATE, TO_DEVICE_RATE } from "../../../src/features/messages/to-device.ts";
import { signIn } from "../../helpers/users.ts";
import { envelope, messagingContext, populatedCommunity, registerTestDevice, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let clock = Date.now();

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
}, 90_000);
afterAll(() => ctx.close(), 30_000);

const ROUNDS = 24;

describe("to-device during a revocation", () => {
  test(`${ROUNDS} rounds of a revocation racing a to-device call: 202 or 404 DEVICE_NOT_FOUND, never a 500; nothing is left queued for a revoked device`, async () => {
    await registerTestDevice(ctx, p.member.user.id, "sender");
    const answers = new Map<number, number>();
    for (let round = 0; round < ROUNDS; round++) {
      // Full rate-limit buckets for every round (the injected clock), fresh tokens after moving it.
      clock += Math.ceil(Math.max(TO_DEVICE_RATE.burst / TO_DEVICE_RATE.ratePerSec, TO_DEVICE_MESSAGE_RATE.burst / TO_DEVICE_MESSAGE_RATE.ratePerSec) * 1000) + 1000;
      for (const c of [p.admin, p.member]) Object.assign(c.headers, (await signIn(ctx, c.user)).headers);
      const device = `doomed-${round}`;
      await registerTestDevice(ctx, p.admin.user.id, device);
      const messages = Array.from({ length: 20 }, () => ({ user_id: p.admin.user.id, device_id: device, ciphertext: envelope(64) }));
      const [sent, revoked] = await Promise.all([
        p.member.call("POST", "/api/e2ee/to-device", { sender_device_id: "sender", messages }),
        p.admin.call("DELETE", `/api/keys/devices/${device}`),
      ]);
      expect(revoked.status).toBe(204);
      expect([202, 404]).toContain(sent.status);
      if (sent.status === 404) {
        expect(sent.body.error.code).toBe("DEVICE_NOT_FOUND");
        expect(Object.keys(sent.body.error.fields)).toHaveLength(20);
      }
      answers.set(sent.status, (answers.get(sent.status) ?? 0) + 1);
      const left = await ctx.database.db.selectFrom("device_messages").select("id").where("recipient_device_id", "=", device).execute();
      expect(left).toEqual([]);
    }
    console.log(`to-device racing revocation: ${JSON.stringify(Object.fromEntries(answers))} over ${ROUNDS} rounds`);
    expect([...answers.values()].reduce((a, b) => a + b, 0)).toBe(ROUNDS);
  });
});
