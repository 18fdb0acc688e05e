/**
 * Edit history (issue 17 §6): the previous versions of an edited message, as the ciphertexts the
 * server kept in message_edits (edit-delete.ts). Readable by whoever can read the channel
 * (accessMessage: an outsider gets 404 like an unknown id); the client decrypts them with the keys
 * it archived when it read each version (docs/messages.md "Edit history"). A deleted message has
 * none: eraseMessages deletes its versions with its content.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import type { ActorRef } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { authGuard } from "../auth/index.ts";
import { accessMessage } from "./access.ts";
import { encodeCiphertext } from "./schemas.ts";

/** Per user: a burst of 30, then two a second (each opens one message's history). */
export const VERSIONS_RATE: Limit = { ratePerSec: 2, burst: 30 };
/** The most versions one answer lists (the newest ones; edits are allowed for 15 minutes only). */
export const MAX_VERSIONS_LISTED = 100;

/** `sender_device_id`: the device that wrote this version; null when kept before it was recorded (migration 0038). */
export type MessageVersion = { ciphertext: string; sender_device_id: string | null; created_at: string; replaced_at: string };

export async function listVersions(deps: AppDeps, actor: ActorRef, messageId: string): Promise<{ message_id: string; versions: MessageVersion[]; has_more: boolean }> {
  const db = dbOf(deps);
  const access = await accessMessage(db, actor, messageId, nowOf(deps));
  const m = access.message;
  if (m.deleted_at) return { message_id: m.id, versions: [], has_more: false };
  const rows = await db
    .selectFrom("message_edits")
    .select(["ciphertext", "sender_device_id", "created_at", "replaced_at"])
    .where("message_id", "=", m.id)
    .orderBy("replaced_at", "desc")
    .orderBy("id", "desc")
    .limit(MAX_VERSIONS_LISTED + 1)
    .execute();
  const has_more = rows.length > MAX_VERSIONS_LISTED;
  const versions = rows
    .slice(0, MAX_VERSIONS_LISTED)
    .reverse()
    .map((r) => ({ ciphertext: encodeCiphertext(r.ciphertext)!, sender_device_id: r.sender_device_id, created_at: new Date(r.created_at).toISOString(), replaced_at: new Date(r.replaced_at).toISOString() }));
  return { message_id: m.id, versions, has_more };
}

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

export function messageVersionRoutes(deps: AppDeps) {
  return new Elysia({ name: "message-versions" })
    .use(authGuard(deps))
    .get("/api/messages/:id/versions", async ({ actor, params }) => {
      const taken = await rateStoreOf(deps).take(`message-versions:${actor.userId}`, VERSIONS_RATE, nowOf(deps).getTime());
      if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "Too many edit histories opened. Try again shortly.");
      return listVersions(deps, actor, params.id);
    }, {
      auth: true,
      detail: { summary: "Previous versions of an edited message (ciphertexts, oldest first)", tags: ["messages"] },
    });
}
