/**
 * The voice feature's JSON API (docs/voice.md; camelCase like the messaging API, whose frames
 * carry the same shapes):
 *   GET /api/account/turn-credentials   ICE servers for a call: minted TURN credentials, or STUN only
 *   GET /api/account/voice              the caller's own seat (to resume after a reload) and rings
 *   GET /api/channels/{id}/voice        who is in the channel's (or conversation's) call
 *   GET /api/communities/{id}/voice     every call of the community the caller can see (the sidebar)
 * Ids the caller may not see are 404, exactly like ids that do not exist; a malformed `:id` is a
 * 400 from the input guard (src/http/input-guard.ts types every path param by name).
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { NotFoundError, RateLimitedError } from "../../errors.ts";
import { json } from "../../http/render.ts";
import type { Limit } from "../../http/rate-limit.ts";
import { MemoryRateLimitStore } from "../../http/rate-limit.ts";
import { authGuard } from "../auth/index.ts";
import { accessChannel, accessCommunity } from "../permissions/index.ts";
import { findSeatOf, listRingsFor, listSeats, listSeatsIn, toParticipant } from "./seats.ts";
import { mintTurnCredentials } from "./turn.ts";

/** Per user: a burst of 10 (a few calls and ICE restarts), then one every 5 s. */
export const TURN_CREDENTIALS_RATE: Limit = { ratePerSec: 0.2, burst: 10 };

export function voiceRoutes(deps: AppDeps) {
  const db = deps.database.db;
  const now = () => new Date((deps.now ?? Date.now)());
  const store = deps.rateLimitStore ?? new MemoryRateLimitStore();
  return new Elysia({ name: "voice-api" })
    .use(authGuard(deps))
    .get(
      "/api/account/turn-credentials",
      async ({ actor }) => {
        const at = now().getTime();
        const taken = await store.take(`turn-credentials:${actor.userId}`, TURN_CREDENTIALS_RATE, at);
        if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "Too many requests for call credentials. Try again shortly.");
        // json(): Cache-Control no-store, like every JSON answer (a credential must not be cached).
        return json(mintTurnCredentials(deps.config, actor.userId, at));
      },
      { auth: true },
    )
    .get(
      "/api/account/voice",
      async ({ actor }) => {
        const seat = await findSeatOf(db, actor.userId);
        const rings = await listRingsFor(db, actor.userId, now());
        return {
          call: seat ? { channelId: seat.channelId, participant: toParticipant(seat) } : null,
          rings: rings.map((r) => ({ channelId: r.channelId, callerId: r.callerId, expiresAt: r.expiresAt.toISOString() })),
        };
      },
      { auth: true },
    )
    .get(
      "/api/channels/:id/voice",
      async ({ actor, params }) => {
        const access = await accessChannel(db, actor, params.id, now());
        return { channelId: access.channel.id, participants: (await listSeats(db, access.channel.id)).map(toParticipant) };
      },
      { auth: true },
    )
    .get(
      "/api/communities/:id/voice",
      async ({ actor, params }) => {
        const access = await accessCommunity(db, actor, params.id, now());
        const voiceChannels = await db.selectFrom("channels").select("id").where("community_id", "=", access.community.id).where("kind", "=", "voice").execute();
        const seats = await listSeatsIn(db, voiceChannels.map((c) => c.id));
        const channels: Record<string, ReturnType<typeof toParticipant>[]> = {};
        for (const channelId of new Set(seats.map((s) => s.channelId))) {
          // Only calls of channels the caller can see (private channels, deny overrides).
          const visible = await accessChannel(db, actor, channelId, now()).then(
            () => true,
            (error: unknown) => {
              if (error instanceof NotFoundError) return false;
              throw error;
            },
          );
          if (visible) channels[channelId] = seats.filter((s) => s.channelId === channelId).map(toParticipant);
        }
        return { communityId: access.community.id, channels };
      },
      { auth: true },
    );
}
