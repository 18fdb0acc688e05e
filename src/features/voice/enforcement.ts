/**
 * Who may stay in a call, enforced the moment it changes (docs/voice.md, "Who may be in a
 * call"). The same notifications that drive the WebSocket re-validation (src/ws/revalidate.ts,
 * wired in features/realtime) drive this, on the instance that made the change, after COMMIT;
 * the seats are in the database, so that instance ends them wherever their sockets are:
 *
 *   kicked / banned / left the community   that person's seat in the community: KICKED / BANNED / ACCESS_CHANGED
 *   timed out                              TIMED_OUT
 *   role changed, custom roles changed     the seat is re-asked (join_voice after the change)
 *   overrides, privacy, private members,   the seats of the channels concerned are re-asked
 *   a role's permissions, archived/kind
 *   session revoked, logout everywhere,    SESSION_ENDED (the socket is closed by the hub anyway;
 *   suspension, password change            this ends the seat at once instead of after the grace)
 *
 * A deleted channel takes its seats with it (foreign key); its followers, participants included,
 * get `subscription:revoked {reason: CHANNEL_DELETED}` from the hub and hang up. The sweep
 * re-asks every seat held here periodically, for any path that forgot to announce itself.
 */
import { onSessionsRevoked } from "../auth/index.ts";
import { onAccessChanged, onMembershipChanged, type MembershipChangeKind } from "../communities/index.ts";
import type { VoiceEndReason } from "../../shared/protocol.ts";
import { endSeats, revalidateSeats } from "./end.ts";
import type { VoiceRuntime } from "./runtime.ts";
import { listSeatsIn, toSeat } from "./seats.ts";

const REMOVALS: Partial<Record<MembershipChangeKind, VoiceEndReason>> = { kicked: "KICKED", banned: "BANNED", left: "ACCESS_CHANGED", timed_out: "TIMED_OUT" };

async function seatsOfUserInCommunity(rt: VoiceRuntime, userId: string, communityId: string) {
  const rows = await rt.deps.database.db
    .selectFrom("voice_participants as v")
    .innerJoin("channels as c", "c.id", "v.channel_id")
    .selectAll("v")
    .where("v.user_id", "=", userId)
    .where("c.community_id", "=", communityId)
    .execute();
  return rows.map(toSeat);
}

export function installEnforcement(rt: VoiceRuntime): () => void {
  const { deps } = rt;
  const offMembership = onMembershipChanged(deps, (change) => {
    const reason = REMOVALS[change.kind];
    if (reason) {
      rt.track(seatsOfUserInCommunity(rt, change.userId, change.communityId).then((seats) => endSeats(rt, seats.map((s) => s.connId), reason)));
    } else if (change.kind === "role_changed") {
      rt.track(seatsOfUserInCommunity(rt, change.userId, change.communityId).then((seats) => revalidateSeats(rt, seats)));
    }
  });
  const offAccess = onAccessChanged(deps, async (change) => {
    if (change.kind === "channel_deleted") return;
    let seats = await listSeatsIn(deps.database.db, change.channelIds);
    if (change.userIds) seats = seats.filter((s) => change.userIds!.includes(s.userId));
    // Awaited: the request that changed access returns with the refused seats already ended.
    await revalidateSeats(rt, seats);
  });
  const offSessions = onSessionsRevoked(deps, (userId, sessionIds) => {
    rt.track(
      (async () => {
        let q = deps.database.db.selectFrom("voice_participants").select("conn_id").where("user_id", "=", userId);
        if (sessionIds !== "all") q = q.where("session_id", "in", sessionIds);
        const rows = await q.execute();
        await endSeats(rt, rows.map((r) => r.conn_id), "SESSION_ENDED");
      })(),
    );
  });
  return () => {
    offMembership();
    offAccess();
    offSessions();
  };
}
