/**
 * "Seen by" after a reload: the read cursors of the OTHER participants of a DM or group DM, for
 * the same people the live `read:receipt` event would name (users.read_receipts on; an opted-out
 * user is left out entirely, not shown at an old position). Community channels have no listing:
 * receipts there would tell every member what everyone read.
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { accessChannel, type ActorRef } from "../permissions/index.ts";
import { isDm } from "./access.ts";

export type ReadReceipt = { user_id: string; seq: number };

export async function listReadReceipts(deps: AppDeps, actor: ActorRef, channelId: string): Promise<ReadReceipt[]> {
  const db = dbOf(deps);
  const access = await accessChannel(db, actor, channelId, nowOf(deps));
  if (!isDm(access)) throw new InvalidInputError("Read receipts are listed for direct messages only.", undefined, "NOT_A_DM");
  const rows = await db
    .selectFrom("read_cursors as r")
    .innerJoin("channel_members as cm", (j) => j.onRef("cm.channel_id", "=", "r.channel_id").onRef("cm.user_id", "=", "r.user_id"))
    .innerJoin("users as u", "u.id", "r.user_id")
    .select(["r.user_id", "r.seq"])
    .where("r.channel_id", "=", access.channel.id)
    .where("r.user_id", "!=", actor.userId)
    .where("u.read_receipts", "=", true)
    .where("r.seq", ">", 0)
    .orderBy("r.user_id")
    .execute();
  return rows.map((r) => ({ user_id: r.user_id, seq: Number(r.seq) }));
}
