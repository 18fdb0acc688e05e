/**
 * Until the messaging server ships `/api/e2ee/to-device` (docs/messages.md "To-device messages"),
 * browser tests of the chat client mount this minimal implementation of that contract on the
 * real app: rows in the real `device_messages` table (so plaintext scans cover them), the real
 * auth guard, `device:message` published to `user:<recipient>` after the insert. It is mounted
 * only when no source file of src/features/messages defines the route.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Elysia, t } from "elysia";
import { authGuard } from "../../src/features/auth/index.ts";
import type { TestContext } from "./app.ts";

const MESSAGES_DIR = resolve(import.meta.dir, "../../src/features/messages");

export function serverHasToDevice(): boolean {
  try {
    return readdirSync(MESSAGES_DIR).some((f) => readFileSync(join(MESSAGES_DIR, f), "utf8").includes('"/api/e2ee/to-device"'));
  } catch {
    return false;
  }
}

export function mountToDeviceFallback(ctx: TestContext): boolean {
  if (serverHasToDevice()) return false;
  const db = ctx.database.db;
  ctx.app.use(
    new Elysia({ name: "to-device-fallback" })
      .use(authGuard(ctx.deps))
      .post(
        "/api/e2ee/to-device",
        async ({ actor, body }) => {
          const rows = body.messages.map((m) => ({
            id: Bun.randomUUIDv7(),
            recipient_id: m.user_id,
            recipient_device_id: m.device_id,
            sender_id: actor.userId,
            sender_device_id: body.sender_device_id,
            ciphertext: Buffer.from(m.ciphertext, "base64url"),
            created_at: new Date(),
          }));
          if (rows.length) await db.insertInto("device_messages").values(rows).execute();
          for (const r of rows) ctx.deps.events.publish(`user:${r.recipient_id}`, { type: "device:message", deviceId: r.recipient_device_id, id: r.id });
          return new Response(JSON.stringify({ queued: rows.length }), { status: 202, headers: { "content-type": "application/json" } });
        },
        { auth: true, body: t.Object({ sender_device_id: t.String(), messages: t.Array(t.Object({ user_id: t.String(), device_id: t.String(), ciphertext: t.String() }), { maxItems: 200 }) }) },
      )
      .get(
        "/api/e2ee/to-device",
        async ({ actor, query }) => {
          let q = db
            .selectFrom("device_messages")
            .select(["id", "sender_id", "sender_device_id", "ciphertext", "created_at"])
            .where("recipient_id", "=", actor.userId)
            .where("recipient_device_id", "=", query.device_id);
          if (query.after) q = q.where("id", ">", query.after);
          const rows = await q.orderBy("id").limit(50).execute();
          return {
            messages: rows.map((r) => ({ id: r.id, sender_id: r.sender_id, sender_device_id: r.sender_device_id, ciphertext: Buffer.from(r.ciphertext as Uint8Array).toString("base64url"), created_at: new Date(r.created_at as Date).toISOString() })),
          };
        },
        { auth: true, query: t.Object({ device_id: t.String(), after: t.Optional(t.String()) }) },
      )
      .post(
        "/api/e2ee/to-device/ack",
        async ({ actor, body }) => {
          await db.deleteFrom("device_messages").where("recipient_id", "=", actor.userId).where("recipient_device_id", "=", body.device_id).where("id", "<=", body.up_to_id).execute();
          return new Response(null, { status: 204 });
        },
        { auth: true, body: t.Object({ device_id: t.String(), up_to_id: t.String() }) },
      ),
  );
  return true;
}
