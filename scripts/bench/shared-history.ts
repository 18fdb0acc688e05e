/**
 * Shared history's cost (issue 11 "measure and report"): the extra to-device traffic when one
 * member joins a `shared` channel with N messages of history and reads it. Runs the real browser
 * engine (src/client/chat/engine.ts) under Bun for each person (test/helpers/engines.ts) against
 * the real app (sockets for presence): Olivia writes N messages, Bob one in ten; both are online;
 * Frank joins with a new device and reads the newest page (50, what the channel shows first),
 * then the whole history, while Olivia's and Bob's devices answer his key requests.
 *
 *   bun scripts/bench/shared-history.ts [--messages 1000]          (embedded PGlite)
 *   TEST_DATABASE_URL=postgres://… bun scripts/bench/shared-history.ts
 *
 * Prints, for the join: Sender Key distributions Frank received; his key-request messages and
 * the items they named; the forwards and keys his devices got; to-device messages and bytes
 * (decoded ciphertext) each way; wall time until everything shown was readable.
 */
import { createTestContext } from "../../test/helpers/app.ts";
import { caller, openDevice, type Device } from "../../test/helpers/engines.ts";
import { createUser, signIn } from "../../test/helpers/users.ts";
import { connectWithToken, listen } from "../../test/helpers/ws.ts";
import type { ChatMessage } from "../../src/client/chat/types.ts";
import { normaliseMessage } from "../../src/client/chat/types.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("messages", 1000);

const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
try {
  const call = (headers: Record<string, string>, method: string, path: string, body?: unknown) => caller(ctx, headers)(method, path, body);
  const [oliviaU, bobU, frankU] = await Promise.all(["Olivia", "Bob", "Frank"].map((displayName) => createUser(ctx, { displayName })));
  const [o, b, f] = await Promise.all([oliviaU!, bobU!, frankU!].map((u) => signIn(ctx, u)));
  const community = await call(o!.headers, "POST", "/api/communities", { name: "History" });
  const invite = await call(o!.headers, "POST", `/api/communities/${community.id}/invites`, {});
  await call(b!.headers, "POST", `/api/community-invites/${invite.code}/accept`);
  const channel = (await call(o!.headers, "GET", `/api/communities/${community.id}/groups`)).groups[0].channels[0].id as string;
  const olivia = await openDevice(ctx, oliviaU!);
  const bob = await openDevice(ctx, bobU!);
  // Olivia and Bob are online (a socket each, as an open tab has): presence says so to key-holders.
  const { ws } = await listen(ctx);
  const sockets = [await connectWithToken(ws, o!.accessToken), await connectWithToken(ws, b!.accessToken)];
  let t = performance.now();
  for (let i = 0; i < N; i++) await (i % 10 === 9 ? bob : olivia).send(channel, `history message ${i}`);
  console.log(`${N} messages written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  // Both members read everything live (as members with the channel open do): their archives hold the keys.
  await olivia.engine.processToDevice();
  await bob.engine.processToDevice();
  const all = await allMessages(olivia, channel);
  for (const m of all) await olivia.engine.decrypt(m);
  for (const m of all) await bob.engine.decrypt(m);

  await call(f!.headers, "POST", `/api/community-invites/${invite.code}/accept`);
  const frank = await openDevice(ctx, frankU!);
  const responders = [olivia, bob];
  const before = snapshot([frank, ...responders]);
  t = performance.now();
  const firstPage = all.slice(-50);
  await readAll(frank, firstPage, responders);
  const page = performance.now() - t;
  const afterPage = snapshot([frank, ...responders]);
  t = performance.now();
  await readAll(frank, all, responders);
  const whole = performance.now() - t;
  const after = snapshot([frank, ...responders]);
  report(`first page (${firstPage.length} messages), ${(page / 1000).toFixed(1)} s`, before, afterPage);
  report(`whole history (${all.length} messages), ${((page + whole) / 1000).toFixed(1)} s`, before, after);
  for (const socket of sockets) socket.close();
} finally {
  await ctx.close();
}

async function allMessages(d: Device, channel: string): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for (let after = 0; ; ) {
    const pageOf = await d.engine.api.call<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${channel}/messages?after_seq=${after}&limit=100`);
    const ms = pageOf.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null);
    out.push(...ms);
    if (!pageOf.has_more || ms.length === 0) return out;
    after = ms[ms.length - 1]!.seq;
  }
}

/** As the page does: show (decrypt) every message, answer and fetch to-device, until all read. */
async function readAll(reader: Device, messages: ChatMessage[], responders: Device[]): Promise<void> {
  let waiting = messages;
  for (let round = 0; waiting.length > 0; round++) {
    if (round > 400) throw new Error(`${waiting.length} messages never became readable`);
    await reader.engine.processToDevice();
    const next: ChatMessage[] = [];
    for (const m of waiting) if ((await reader.engine.decrypt(m)).status !== "ok") next.push(m);
    waiting = next;
    if (waiting.length === 0) break;
    await Bun.sleep(350); // the engine gathers waiting items for 300 ms before asking
    for (const r of responders) await r.engine.processToDevice();
  }
}

type Snap = { frank: Record<string, number>; responders: Record<string, number> };
function snapshot(devices: Device[]): Snap {
  const [frank, ...rest] = devices;
  const sum = (k: string) => rest.reduce((s, d) => s + (d.engine.stats as Record<string, number>)[k]!, 0);
  const keys = Object.keys(frank!.engine.stats);
  return { frank: { ...(frank!.engine.stats as Record<string, number>) }, responders: Object.fromEntries(keys.map((k) => [k, sum(k)])) };
}

function report(what: string, a: Snap, b: Snap): void {
  const d = (side: "frank" | "responders", k: string) => b[side][k]! - a[side][k]!;
  const kib = (chars: number) => `${((chars * 3) / 4 / 1024).toFixed(1)} KiB`;
  console.log(`\n${what}:`);
  console.log(`  Sender Key distributions received by Frank's device: ${d("frank", "distributionsReceived")}`);
  console.log(`  Frank → members: ${d("frank", "keyRequestsSent")} key-request messages naming ${d("frank", "keyRequestItems")} items, ${kib(d("frank", "toDeviceBytesSent"))} of ciphertext`);
  console.log(`  members → Frank: ${d("responders", "keyForwardsSent")} forward messages carrying ${d("responders", "keysForwarded")} keys (${d("responders", "refusalsSent")} refused), ${kib(d("responders", "toDeviceBytesSent"))} of ciphertext (their distributions included)`);
  console.log(`  Frank's device accepted ${d("frank", "keysAccepted")} keys (${d("frank", "keysOffered")} offered)`);
}
