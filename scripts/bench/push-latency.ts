/**
 * Time from a sent DM to its push reaching the push service (issue 13 "Measure"): Alice sends a
 * DM (the HTTP send, in-process through app.handle) to Bob, who has a push subscription and no
 * open socket; the clock stops when the push service on loopback (test/helpers/push-service.ts:
 * it verifies the VAPID JWT and decrypts the payload, as a real one would) has received it. The
 * baseline, measured in the same run: the send's own round trip (request to 201), which the push
 * follows after COMMIT in the background. Prints medians, p90 and the ratio to the baseline.
 *
 *   bun scripts/bench/push-latency.ts [--sends 50]          embedded PGlite
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bun scripts/bench/push-latency.ts
 */
import { parseArgs } from "node:util";
import { startPushService } from "../../test/helpers/push-service.ts";
import { expectOk, messagingContext, populatedCommunity } from "../../test/features/messages/helpers.ts";
import { markedSend, openDm, subscribe, vapidEnv } from "../../test/features/notifications/helpers.ts";
import { pushSettled } from "../../src/features/notifications/index.ts";

const { values } = parseArgs({ options: { sends: { type: "string", default: "50" } } });
const sends = Math.max(3, Number(values.sends));
const service = startPushService();
const ctx = await messagingContext({ env: vapidEnv() });
try {
  const p = await populatedCommunity(ctx);
  const [alice, bob] = [p.moderator, p.member];
  const dm = await openDm(alice, bob);
  await subscribe(bob, service);
  const sendOnce = async () => {
    const before = service.received.length;
    const started = performance.now();
    await expectOk(alice.call("POST", `/api/channels/${dm}/messages`, markedSend("pw")), 201);
    const answered = performance.now() - started;
    const [push] = (await service.waitFor(before + 1)).slice(before);
    await pushSettled(ctx.deps);
    return { answered, pushed: push!.receivedAt - started };
  };
  for (let i = 0; i < 3; i++) await sendOnce(); // warm-up: statements prepared, JIT
  const samples = [];
  for (let i = 0; i < sends; i++) samples.push(await sendOnce());
  const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
  const send50 = pct(samples.map((s) => s.answered), 0.5);
  const push50 = pct(samples.map((s) => s.pushed), 0.5);
  const push90 = pct(samples.map((s) => s.pushed), 0.9);
  console.log(`database: ${ctx.database.kind}; ${sends} DMs, each awaited before the next`);
  console.log(`baseline: the send's round trip (request to 201), median ${send50.toFixed(1)} ms`);
  console.log(`DM sent -> push received by the push service: median ${push50.toFixed(1)} ms (${(push50 / send50).toFixed(2)}× the send), p90 ${push90.toFixed(1)} ms (${(push90 / send50).toFixed(2)}×)`);
} finally {
  await pushSettled(ctx.deps);
  await ctx.close();
  await service.stop();
}
