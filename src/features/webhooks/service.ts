/**
 * Incoming webhooks (issue 18 §1, seeds/000, docs/integrations.md). A webhook belongs to one
 * channel; members holding `manage_webhooks` there create, list and revoke it. Its token is
 * shown once: only the SHA-256 of the token is stored, and `POST /webhook/{token}` finds the
 * webhook by that hash. A webhook's messages are PLAINTEXT (an outside service holds no
 * encryption key): every client shows them with the "Webhook · not E2EE" badge.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { dbOf, insertCommunityAudit, mutate, nowOf, requireText } from "../communities/index.ts";
import { postWebhookMessage, type MessageView } from "../messages/index.ts";
import { accessChannel, isUuid, requireCan, type ActorRef, type ChannelAccess } from "../permissions/index.ts";

/** seeds/000: a webhook message's content is at most 4,000 characters. */
export const WEBHOOK_CONTENT_MAX = 4000;
export const WEBHOOK_NAME_MAX = 80;
export const WEBHOOK_AVATAR_URL_MAX = 2048;
/** Per token, shared by every instance through the rate-limit store (Redis when REDIS_URL is set): 30 a minute, bursts of 10. */
export const WEBHOOK_RATE: Limit = { ratePerSec: 0.5, burst: 10 };
/** At most this many live (not revoked) webhooks per channel. */
export const WEBHOOKS_PER_CHANNEL = 25;
const TOKEN_PREFIX = "hwh_";

export type WebhookView = {
  id: string;
  channel_id: string;
  channel_name: string | null;
  name: string;
  created_by: string | null;
  created_by_name: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
};

export type CreatedWebhook = WebhookView & { token: string; url: string };

/** SHA-256 of the token's text: what the database holds instead of the token. */
export function hashWebhookToken(token: string): Uint8Array {
  return new Uint8Array(new Bun.CryptoHasher("sha256").update(token).digest());
}

function newToken(): string {
  return TOKEN_PREFIX + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function webhookUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/webhook/${token}`;
}

type Row = { id: string; channel_id: string; channel_name: string | null; name: string; created_by: string | null; created_by_name: string | null; created_at: Date; last_used_at: Date | null; revoked_at: Date | null };

function toView(r: Row): WebhookView {
  return {
    id: r.id,
    channel_id: r.channel_id,
    channel_name: r.channel_name,
    name: r.name,
    created_by: r.created_by,
    created_by_name: r.created_by_name,
    created_at: new Date(r.created_at).toISOString(),
    last_used_at: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
    revoked_at: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
  };
}

function baseQuery(deps: AppDeps) {
  return dbOf(deps)
    .selectFrom("webhooks as w")
    .innerJoin("channels as c", "c.id", "w.channel_id")
    .leftJoin("users as u", "u.id", "w.created_by")
    .select(["w.id", "w.channel_id", "c.name as channel_name", "w.name", "w.created_by", "u.display_name as created_by_name", "w.created_at", "w.last_used_at", "w.revoked_at"]);
}

/** The channel, when the actor may manage its webhooks: 404 for outsiders, 403 without the permission. */
async function manageableChannel(deps: AppDeps, actor: ActorRef, channelId: string): Promise<ChannelAccess> {
  const access = await accessChannel(dbOf(deps), actor, channelId, nowOf(deps));
  if (!access.community) throw new NotFoundError("No such channel."); // DMs have no webhooks
  requireCan(access.community, "manage_webhooks", {}, "You cannot manage this channel's webhooks.");
  return access;
}

export async function createWebhook(deps: AppDeps, actor: ActorRef, channelId: string, input: { name?: string }, baseUrl: string): Promise<CreatedWebhook> {
  const access = await manageableChannel(deps, actor, channelId);
  const name = requireText("name", "Name", input.name, 1, WEBHOOK_NAME_MAX);
  const token = newToken();
  const id = Bun.randomUUIDv7();
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    // Lock the channel row: two creations at once cannot both pass the per-channel limit.
    await tx.selectFrom("channels").select("id").where("id", "=", access.channel.id).forUpdate().executeTakeFirstOrThrow();
    const live = await tx.selectFrom("webhooks").select((eb) => eb.fn.countAll<number>().as("n")).where("channel_id", "=", access.channel.id).where("revoked_at", "is", null).executeTakeFirstOrThrow();
    if (Number(live.n) >= WEBHOOKS_PER_CHANNEL) throw new AppError("TOO_MANY_WEBHOOKS", 409, `A channel has at most ${WEBHOOKS_PER_CHANNEL} webhooks. Revoke one first.`);
    await tx.insertInto("webhooks").values({ id, channel_id: access.channel.id, name, token_hash: hashWebhookToken(token), created_by: actor.userId, created_at: now }).execute();
    await insertCommunityAudit(tx, { communityId: access.community!.community.id, actorId: actor.userId, action: "webhook_created", targetType: "webhook", targetId: id, metadata: { channel_id: access.channel.id, name }, at: now });
  });
  const [row] = await baseQuery(deps).where("w.id", "=", id).execute();
  return { ...toView(row as Row), token, url: webhookUrl(baseUrl, token) };
}

/** A channel's webhooks (live and revoked, newest first), for members who may manage them. */
export async function listChannelWebhooks(deps: AppDeps, actor: ActorRef, channelId: string): Promise<WebhookView[]> {
  const access = await manageableChannel(deps, actor, channelId);
  const rows = await baseQuery(deps).where("w.channel_id", "=", access.channel.id).orderBy("w.created_at", "desc").execute();
  return rows.map((r) => toView(r as Row));
}

/** Every webhook of the instance (the admin area's read-only list), newest first. */
export async function listAllWebhooks(deps: AppDeps, limit = 500): Promise<(WebhookView & { community_id: string | null; community_name: string | null })[]> {
  const rows = await dbOf(deps)
    .selectFrom("webhooks as w")
    .innerJoin("channels as c", "c.id", "w.channel_id")
    .leftJoin("communities as co", "co.id", "c.community_id")
    .leftJoin("users as u", "u.id", "w.created_by")
    .select(["w.id", "w.channel_id", "c.name as channel_name", "w.name", "w.created_by", "u.display_name as created_by_name", "w.created_at", "w.last_used_at", "w.revoked_at", "co.id as community_id", "co.name as community_name"])
    .orderBy("w.created_at", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...toView(r as Row), community_id: r.community_id, community_name: r.community_name }));
}

/** Revokes a webhook (idempotent): its token stops working at once; its messages stay. */
export async function revokeWebhook(deps: AppDeps, actor: ActorRef, webhookId: string): Promise<void> {
  const db = dbOf(deps);
  const row = isUuid(webhookId) ? await db.selectFrom("webhooks").select(["id", "channel_id", "name", "revoked_at"]).where("id", "=", webhookId).executeTakeFirst() : undefined;
  if (!row) throw new NotFoundError("No such webhook.", "WEBHOOK_NOT_FOUND");
  // Someone who cannot see the channel learns nothing: "No such webhook" (404), as for a wrong id.
  const access = await manageableChannel(deps, actor, row.channel_id).catch((error: unknown) => {
    if (error instanceof AppError && error.status === 404) throw new NotFoundError("No such webhook.", "WEBHOOK_NOT_FOUND");
    throw error;
  });
  if (row.revoked_at) return;
  const now = nowOf(deps);
  await mutate(deps, async (tx) => {
    await tx.updateTable("webhooks").set({ revoked_at: now }).where("id", "=", row.id).where("revoked_at", "is", null).execute();
    await insertCommunityAudit(tx, { communityId: access.community!.community.id, actorId: actor.userId, action: "webhook_revoked", targetType: "webhook", targetId: row.id, metadata: { channel_id: row.channel_id, name: row.name }, at: now });
  });
}

// ---- posting ----------------------------------------------------------------------------------

/** `POST /webhook/{token}`: our shape `{content, username?, avatar_url?}` or Slack's `{text, username?, icon_url?}`. */
export type WebhookPayload = { content?: string; text?: string; username?: string; avatar_url?: string; icon_url?: string };

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

/** Control characters out (a name is one line), whitespace trimmed. */
function cleanName(value: string | undefined): string | null {
  if (value === undefined) return null;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ").trim();
  if (text === "") return null;
  if ([...text].length > WEBHOOK_NAME_MAX) throw new InvalidInputError(`The username is at most ${WEBHOOK_NAME_MAX} characters.`, { username: `At most ${WEBHOOK_NAME_MAX} characters.` }, "INVALID_USERNAME");
  return text;
}

function cleanAvatarUrl(value: string | undefined): string | null {
  if (value === undefined || value.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidInputError("avatar_url must be an https URL.", { avatar_url: "Must be an https URL." }, "INVALID_AVATAR_URL");
  }
  if (url.protocol !== "https:" || url.href.length > WEBHOOK_AVATAR_URL_MAX) throw new InvalidInputError("avatar_url must be an https URL.", { avatar_url: "Must be an https URL." }, "INVALID_AVATAR_URL");
  return url.href;
}

/**
 * Posts a webhook's message. Unknown and revoked tokens are one answer (404); then the token's
 * rate limit (429); then the payload (413 above WEBHOOK_CONTENT_MAX characters, 400 when empty).
 */
export async function postToWebhook(deps: AppDeps, token: string, payload: WebhookPayload): Promise<MessageView> {
  const db = dbOf(deps);
  const hook = token.startsWith(TOKEN_PREFIX) && token.length <= 100
    ? await db.selectFrom("webhooks").select(["id", "channel_id", "name"]).where("token_hash", "=", hashWebhookToken(token)).where("revoked_at", "is", null).executeTakeFirst()
    : undefined;
  if (!hook) throw new NotFoundError("No such webhook.", "WEBHOOK_NOT_FOUND");
  const now = nowOf(deps);
  const taken = await rateStoreOf(deps).take(`webhook:${hook.id}`, WEBHOOK_RATE, now.getTime());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "This webhook is posting too fast. Try again shortly.", "WEBHOOK_RATE_LIMITED");
  const content = payload.content ?? payload.text ?? "";
  if ([...content].length > WEBHOOK_CONTENT_MAX) {
    throw new AppError("WEBHOOK_CONTENT_TOO_LONG", 413, `The content is at most ${WEBHOOK_CONTENT_MAX} characters.`, { fields: { content: `At most ${WEBHOOK_CONTENT_MAX} characters.` } });
  }
  if (content.trim() === "") throw new InvalidInputError("The message needs some content (content, or text in Slack's shape).", { content: "Required." }, "INVALID_CONTENT");
  const username = cleanName(payload.username) ?? hook.name;
  const avatarUrl = cleanAvatarUrl(payload.avatar_url ?? payload.icon_url);
  const message = await postWebhookMessage(deps, { channelId: hook.channel_id, webhookId: hook.id, plaintext: { content, username, avatar_url: avatarUrl } });
  await db.updateTable("webhooks").set({ last_used_at: now }).where("id", "=", hook.id).execute();
  return message;
}
