/**
 * The self-service export's cost (issue 15 §3): GET /api/account/export for a user with
 * --messages messages (ciphertext of --bytes bytes each), read to the end by a slow consumer; and
 * the admin export (the same zip, sealed to a passphrase). Prints time, archive size, throughput
 * and the process's peak RSS growth during the export (the zip is streamed and messages are read
 * 500 at a time, so the growth should not follow the archive's size).
 *
 *   bun scripts/bench/data-export.ts [--messages 50000] [--bytes 300]          (PGlite)
 *   TEST_DATABASE_URL=postgres://… bun scripts/bench/data-export.ts
 */
import { createTestContext } from "../../test/helpers/app.ts";
import { createUser, signIn } from "../../test/helpers/users.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg("messages", 50_000);
const BYTES = arg("bytes", 300);

const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
try {
  const user = await createUser(ctx);
  const admin = await createUser(ctx, { isAdmin: true, adminPowers: ["privacy"] });
  const s = await signIn(ctx, user);
  const community = await (await ctx.request("/api/communities", { method: "POST", headers: s.headers, body: JSON.stringify({ name: "Bench" }) })).json();
  const groups = await (await ctx.request(`/api/communities/${community.id}/groups`, { headers: s.headers })).json();
  const channelId = groups.groups[0].channels[0].id as string;
  let seq = 0;
  for (let start = 0; start < MESSAGES; start += 2000) {
    const rows = Array.from({ length: Math.min(2000, MESSAGES - start) }, () => ({ id: Bun.randomUUIDv7(), channel_id: channelId, seq: ++seq, sender_id: user.id, sender_device_id: "dev1", client_id: crypto.randomUUID(), scheme: "sk", ciphertext: crypto.getRandomValues(new Uint8Array(BYTES)) }));
    await ctx.database.db.insertInto("messages").values(rows).execute();
  }
  await ctx.database.db.updateTable("channels").set({ last_seq: seq }).where("id", "=", channelId).execute();

  const measure = async (label: string, request: () => Promise<Response>) => {
    Bun.gc(true);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const started = performance.now();
    const res = await request();
    if (!res.ok || !res.body) throw new Error(`${label}: ${res.status} ${await res.text()}`);
    let size = 0;
    let chunks = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      size += chunk.length;
      if (++chunks % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(`${label}: ${MESSAGES} messages × ${BYTES} B → ${(size / 1024 / 1024).toFixed(1)} MiB in ${(ms / 1000).toFixed(2)} s (${(MESSAGES / (ms / 1000)).toFixed(0)} messages/s), peak RSS +${((peak - rssBefore) / 1024 / 1024).toFixed(0)} MiB`);
  };
  await measure("self-service zip", () => ctx.request("/api/account/export", { headers: s.headers }));
  const a = await signIn(ctx, admin);
  await ctx.database.db.updateTable("sessions").set({ reauthenticated_at: new Date() }).where("id", "=", a.sessionId).execute();
  await measure("admin sealed export", () => ctx.request(`/api/admin/users/${user.id}/export`, { method: "POST", headers: { ...a.headers, "content-type": "application/json" }, body: JSON.stringify({ passphrase: "bench passphrase 123" }) }));
} finally {
  await ctx.close();
}
