/**
 * Storing a webhook's message (docs/integrations.md "Incoming webhooks"): scheme "wh", no
 * ciphertext, the content as JSON in `messages.plaintext` — the one plaintext path of Hearth
 * (DESIGN rule 7). The webhooks feature authenticates the token and checks the payload; this
 * file only numbers and stores the row (one self-committing statement, like insertWithSeq in
 * send-statement.ts: the channel row lock is held for that statement alone) and, after COMMIT,
 * delivers it through the same fan-out as every message (`message:new` to the channel topic,
 * then channel:activity).
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import type { WebhookPlaintext } from "../../db/schema.ts";
import { ForbiddenError, NotFoundError } from "../../errors.ts";
import { channelTopic } from "../../ws/topics.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { toView, toWire, type MessageRow, type MessageView } from "./queries.ts";
import { noteActivity } from "./realtime.ts";

/** What a webhook message shows as its author's device (the column is NOT NULL; no device exists). */
export const WEBHOOK_DEVICE_ID = "webhook";

export async function postWebhookMessage(deps: AppDeps, input: { channelId: string; webhookId: string; plaintext: WebhookPlaintext }): Promise<MessageView> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const id = Bun.randomUUIDv7();
  const json = JSON.stringify(input.plaintext);
  // Only into a live text or announcement channel of a community (never a DM, a voice channel or
  // an archived channel): the statement re-checks it on the locked row.
  const { rows } = await sql<MessageRow>`
    with locked as (
      update channels set last_seq = last_seq + 1
      where id = ${input.channelId}::uuid and community_id is not null and kind in ('text', 'announcement') and not archived
      returning id, last_seq, message_ttl_seconds
    )
    insert into messages (id, channel_id, seq, sender_id, sender_device_id, client_id, scheme, ciphertext, plaintext, webhook_id, created_at, expires_at)
    select ${id}::uuid, locked.id, locked.last_seq, null, ${WEBHOOK_DEVICE_ID}::text, ${crypto.randomUUID()}::uuid, 'wh', null,
      cast(cast(${json} as text) as jsonb), ${input.webhookId}::uuid, ${now}::timestamptz,
      case when locked.message_ttl_seconds > 0 then ${now}::timestamptz + locked.message_ttl_seconds * interval '1 second' end
    from locked
    returning *`.execute(db);
  const row = rows[0];
  if (!row) {
    const channel = await db.selectFrom("channels").select(["archived"]).where("id", "=", input.channelId).executeTakeFirst();
    if (channel?.archived) throw new ForbiddenError("This channel is archived.", "CHANNEL_ARCHIVED");
    throw new NotFoundError("No such webhook.", "WEBHOOK_NOT_FOUND");
  }
  const message = toView(row, null);
  deps.events.publish(channelTopic(row.channel_id), { type: "message:new", message: toWire(message) });
  noteActivity(deps, row.channel_id, message.seq);
  return message;
}
