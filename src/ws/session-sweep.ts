// The liveness sweep (every livenessIntervalMs): sockets whose session is no longer live
// (expired, revoked, user suspended) are closed, as the auth feature judges.
import type { Logger } from "../log.ts";
import { CLOSE } from "../shared/protocol.ts";
import type { HubSocket } from "./hub-types.ts";
import type { SocketRegistry } from "./registry.ts";

export async function sweepSessionSockets(registry: SocketRegistry<HubSocket>, checkSessions: (ids: string[]) => Promise<Set<string>>, release: (socket: HubSocket) => void, log: Logger): Promise<number> {
  const ids = registry.sessionIds();
  if (ids.length === 0) return 0;
  let live: Set<string>;
  try {
    live = await checkSessions(ids);
  } catch (error) {
    // Database briefly unavailable: keep the sockets; the next sweep decides.
    log.warn("ws.liveness_check_failed", { error: error instanceof Error ? error.message : String(error) });
    return 0;
  }
  let closed = 0;
  for (const id of ids) {
    if (live.has(id)) continue;
    for (const socket of registry.socketsOfSession(id)) {
      socket.fail("SESSION_ENDED", "This session has ended. Please sign in again.", CLOSE.SESSION_ENDED);
      release(socket);
      closed++;
    }
  }
  if (closed > 0) log.info("ws.sessions_swept", { closed });
  return closed;
}
