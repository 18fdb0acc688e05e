/**
 * Issue 12: an upload on instance A is downloaded on instance B. Two apps with their own blob
 * store clients, rate limiters and process-local state share one database and one S3-compatible
 * bucket (s3rver on loopback), as instances behind a load balancer do. Parts of one upload may
 * also land on different instances (a resume after the balancer switched). Outsiders get 404 on
 * both, identical to an unknown id.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { startS3rver, type TestS3 } from "../../helpers/s3rver.ts";
import { signIn } from "../../helpers/users.ts";
import { expectOk, populatedCommunity, send, type Populated } from "../messages/helpers.ts";
import { CHUNK, putPart, randomBytes, SEALED, upload } from "./helpers.ts";

const s3: TestS3 | undefined = await startS3rver();
if (!s3) console.log("test/features/files/two-instances.test.ts: skipped: s3rver did not start");

let a: TestContext;
let b: TestContext;
let p: Populated;

beforeAll(async () => {
  if (!s3) return;
  const env = { COMMUNITY_CREATION_MODE: "anyone", ...s3.env("two/") };
  a = await createTestContext({ env });
  b = await createTestContext({ env, database: { ...a.database, close: async () => {} } });
  p = await populatedCommunity(a);
}, 120_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
  await s3?.stop();
}, 60_000);

async function getOn(ctx: TestContext, headers: Record<string, string>, id: string, range?: string) {
  const res = await ctx.request(`/api/files/${id}`, { headers: { ...headers, ...(range ? { range } : {}) } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe.skipIf(!s3)("files across two instances on one S3 bucket", () => {
  test("uploaded on A, attached, downloaded on B by another reader, whole and by range; outsiders get 404 on both", async () => {
    const bytes = randomBytes(SEALED * 10 + 123);
    const up = await upload(a, p.member, p.generalChannelId, bytes);
    expect(up.status).toBe(200);
    await send(p.member, p.generalChannelId, { file_ids: [up.id] });
    const adminOnB = (await signIn(b, p.admin.user)).headers;
    const whole = await getOn(b, adminOnB, up.id);
    expect(whole.status).toBe(200);
    expect(Buffer.from(whole.bytes).equals(Buffer.from(bytes))).toBe(true);
    const ranged = await getOn(b, adminOnB, up.id, `bytes=${SEALED * 3}-${SEALED * 5 - 1}`);
    expect(ranged.status).toBe(206);
    expect(Buffer.from(ranged.bytes).equals(Buffer.from(bytes.subarray(SEALED * 3, SEALED * 5)))).toBe(true);
    const unknown = crypto.randomUUID();
    for (const ctx of [a, b]) {
      const outsider = (await signIn(ctx, p.outsider.user)).headers;
      const [theirs, none] = [await ctx.request(`/api/files/${up.id}`, { headers: outsider }), await ctx.request(`/api/files/${unknown}`, { headers: outsider })];
      expect([theirs.status, none.status]).toEqual([404, 404]);
      expect(await theirs.json()).toEqual(await none.json());
    }
  });

  test("one upload's parts sent to both instances (a resume after the balancer switched) completes and reads back on either", async () => {
    const bytes = randomBytes(SEALED * 8);
    const start = await expectOk(p.member.call("POST", "/api/files/uploads", { channel_id: p.generalChannelId, size: bytes.length, part_size: SEALED * 2, chunk_size: CHUNK }), 201);
    const id = start.upload.id as string;
    const memberOnB = { ...p.member, headers: (await signIn(b, p.member.user)).headers };
    const results = [];
    for (let part = 0; part < 4; part++) {
      const [ctx, who] = part % 2 === 0 ? [a, p.member] : [b, memberOnB];
      results.push((await putPart(ctx, who, id, part, bytes.subarray(part * SEALED * 2, (part + 1) * SEALED * 2))).status);
    }
    expect(results).toEqual([200, 200, 200, 200]);
    const status = await expectOk(p.member.call("GET", `/api/files/uploads/${id}`));
    expect(status.upload.complete).toBe(true);
    for (const [ctx, headers] of [[a, p.member.headers], [b, memberOnB.headers]] as const) {
      const got = await getOn(ctx, headers, id);
      expect(got.status).toBe(200);
      expect(Buffer.from(got.bytes).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});
