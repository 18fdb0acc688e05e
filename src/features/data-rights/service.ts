/**
 * Data exports (issue 15 §3, docs/admin.md "Data rights"): the user's own (a zip streamed as it
 * is read) and an admin's export of a user (the same zip without anything of other people,
 * encrypted to a passphrase: sealed.ts). Both are rate limited per actor and audited before the
 * first byte goes out (the entry holds counts, never content or the passphrase).
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { authKernelOf, insertAuditEntry, requireFreshReauth, type Actor, type RequestMeta } from "../auth/index.ts";
import { checkTarget } from "../admin/index.ts";
import { countMessages, exportParts, type ExportScope } from "./collect.ts";
import { MIN_PASSPHRASE, sealStream } from "./sealed.ts";
import { zipStream } from "./zip-stream.ts";

/** Own exports: 3 at once, then one per 20 minutes. */
export const SELF_EXPORT_RATE: Limit = { ratePerSec: 1 / 1200, burst: 3 };
/** An admin's exports of users: 10 at once, then one a minute. */
export const ADMIN_EXPORT_RATE: Limit = { ratePerSec: 1 / 60, burst: 10 };

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

async function takeExportToken(deps: AppDeps, key: string, limit: Limit, nowMs: number): Promise<void> {
  const taken = await rateStoreOf(deps).take(key, limit, nowMs);
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "An export was made a moment ago. Try again later.", "EXPORT_RATE_LIMITED");
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const safeName = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);

function download(body: ReadableStream<Uint8Array>, filename: string, type: string): Response {
  return new Response(body, {
    headers: {
      "content-type": type,
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

function archiveOf(deps: AppDeps, user: { id: string; username: string }, scope: ExportScope, now: Date): ReadableStream<Uint8Array> {
  return zipStream(exportParts(deps.database.db, user, scope, now), now);
}

/** GET /api/account/export: the signed-in user's own data, as a zip. */
export async function exportOwnData(deps: AppDeps, actor: Actor, meta: RequestMeta): Promise<Response> {
  const kernel = authKernelOf(deps);
  const now = new Date(kernel.now());
  await takeExportToken(deps, `export-self:${actor.userId}`, SELF_EXPORT_RATE, now.getTime());
  const db = deps.database.db;
  const messages = await countMessages(db, actor.userId);
  await insertAuditEntry(db, { actorId: actor.userId, action: "data_exported", targetType: "user", targetId: actor.userId, metadata: { messages }, at: now, meta });
  return download(archiveOf(deps, { id: actor.userId, username: actor.username }, "self", now), `hearth-export-${safeName(actor.username)}-${day(now)}.zip`, "application/zip");
}

export function checkPassphrase(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE) throw new InvalidInputError(`Choose a passphrase of at least ${MIN_PASSPHRASE} characters.`, { passphrase: `At least ${MIN_PASSPHRASE} characters.` }, "PASSPHRASE_TOO_SHORT");
}

/** An admin's export of a user: fresh re-authentication, the target rules, encrypted to the passphrase. */
export async function exportUserData(deps: AppDeps, actor: Actor, userId: string, passphrase: string, meta: RequestMeta): Promise<Response> {
  const kernel = authKernelOf(deps);
  await requireFreshReauth(kernel, actor);
  const db = deps.database.db;
  const target = await checkTarget(db, actor, userId);
  checkPassphrase(passphrase);
  const now = new Date(kernel.now());
  await takeExportToken(deps, `export-admin:${actor.userId}`, ADMIN_EXPORT_RATE, now.getTime());
  const messages = await countMessages(db, target.id);
  await insertAuditEntry(db, { actorId: actor.userId, action: "user_data_exported", targetType: "user", targetId: target.id, metadata: { messages }, at: now, meta });
  return download(sealStream(archiveOf(deps, target, "admin", now), passphrase), `hearth-user-${safeName(target.username)}-${day(now)}.zip.hearthseal`, "application/octet-stream");
}

export async function findWipeTarget(deps: AppDeps, actor: Actor, userId: string): Promise<{ id: string; username: string; displayName: string }> {
  const target = await checkTarget(deps.database.db, actor, userId);
  const row = await deps.database.db.selectFrom("users").select("display_name").where("id", "=", target.id).executeTakeFirst();
  if (!row) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  return { id: target.id, username: target.username, displayName: row.display_name };
}
