/**
 * The notifications JSON API (docs/notifications.md, docs/api.md):
 *
 *   GET    /api/notifications/settings                 the user's defaults, do-not-disturb, mute, and whether push is on
 *   PUT    /api/notifications/settings                 {level?, dm_level?, dnd?, mute?}
 *   GET    /api/communities/:id/notifications          {level: all|mentions|none|inherit, muted_until}
 *   PUT    /api/communities/:id/notifications          {level?, mute?}
 *   GET    /api/channels/:id/notifications             same, per channel or DM
 *   PUT    /api/channels/:id/notifications
 *   GET    /api/push/subscriptions                     this user's push subscriptions (which is this device's)
 *   POST   /api/push/subscriptions                     {endpoint, keys: {p256dh, auth}} for this session (device)
 *   DELETE /api/push/subscriptions/:id                 404 for an id that is not the caller's
 *
 * Settings live on the server, so every device of the user sees the same ones. Community and
 * channel settings are id-addressed: a non-member gets 404 exactly as for an unknown id.
 * Bodies are small JSON objects: the default body budget (64 KiB, src/http/body-budget.ts).
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { NotFoundError } from "../../errors.ts";
import { Uuid } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { accessChannel, accessCommunity } from "../permissions/index.ts";
import { checkEndpoint, deleteSubscription, listSubscriptions, saveSubscription } from "./push-subscriptions.ts";
import { MUTE_CHOICES, NOTIFY_LEVELS } from "./levels.ts";
import { announceSettingsChanged, muteUntil, readOverride, readPreferences, writeOverride, writePreferences, type MuteChoice, type NotifyLevel, type Override, type Preferences } from "./settings.ts";

const Level = t.Union(NOTIFY_LEVELS.map((l) => t.Literal(l)));
const Mute = t.Union(MUTE_CHOICES.map((m) => t.Literal(m)), { description: "off, 1h, 8h, 24h, or forever (until turned back on)" });
const ScopeLevel = t.Union([...NOTIFY_LEVELS.map((l) => t.Literal(l)), t.Literal("inherit")]);
const IdParams = t.Object({ id: Uuid });

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function preferencesView(p: Preferences, push: { enabled: boolean; publicKey: string | null }) {
  return { level: p.level, dm_level: p.dmLevel, dnd: p.dnd, muted_until: iso(p.mutedUntil), push: { enabled: push.enabled, public_key: push.publicKey } };
}
const overrideView = (o: Override) => ({ level: (o.level ?? "inherit") as NotifyLevel | "inherit", muted_until: iso(o.mutedUntil) });

export function notificationApiRoutes(deps: AppDeps) {
  const db = deps.database.db;
  const now = () => new Date(deps.now?.() ?? Date.now());
  const push = { enabled: deps.config.vapid !== undefined, publicKey: deps.config.vapid?.publicKey ?? null };
  const requireMember = async (actor: { userId: string; isOwner: boolean }, communityId: string) => {
    const access = await accessCommunity(db, actor, communityId, now());
    if (!access.subject.member) throw new NotFoundError("No such community.");
    return access.community.id;
  };
  const requireChannel = async (actor: { userId: string; isOwner: boolean }, channelId: string) => {
    const access = await accessChannel(db, actor, channelId, now());
    if (access.community && !access.community.subject.member) throw new NotFoundError("No such channel.");
    return access.channel.id;
  };
  const scopeChange = (body: { level?: NotifyLevel | "inherit"; mute?: MuteChoice }): Partial<Override> => ({
    ...(body.level !== undefined ? { level: body.level === "inherit" ? null : body.level } : {}),
    ...(body.mute !== undefined ? { mutedUntil: muteUntil(body.mute, now()) } : {}),
  });
  const ScopeBody = t.Object({ level: t.Optional(ScopeLevel), mute: t.Optional(Mute) });

  return new Elysia({ name: "notifications-api" })
    .use(authGuard(deps))
    .get("/api/notifications/settings", async ({ actor }) => preferencesView(await readPreferences(db, actor.userId), push), { auth: true })
    .put(
      "/api/notifications/settings",
      async ({ actor, body }) => {
        const change: Partial<Preferences> = {
          ...(body.level !== undefined ? { level: body.level } : {}),
          ...(body.dm_level !== undefined ? { dmLevel: body.dm_level } : {}),
          ...(body.dnd !== undefined ? { dnd: body.dnd } : {}),
          ...(body.mute !== undefined ? { mutedUntil: muteUntil(body.mute, now()) } : {}),
        };
        const saved = await writePreferences(db, actor.userId, change, now());
        announceSettingsChanged(deps, actor.userId);
        return preferencesView(saved, push);
      },
      { auth: true, body: t.Object({ level: t.Optional(Level), dm_level: t.Optional(Level), dnd: t.Optional(t.Boolean()), mute: t.Optional(Mute) }) },
    )
    .get("/api/communities/:id/notifications", async ({ actor, params }) => overrideView(await readOverride(db, actor.userId, { communityId: await requireMember(actor, params.id) })), { auth: true, params: IdParams })
    .put(
      "/api/communities/:id/notifications",
      async ({ actor, params, body }) => {
        const saved = await writeOverride(db, actor.userId, { communityId: await requireMember(actor, params.id) }, scopeChange(body), now());
        announceSettingsChanged(deps, actor.userId);
        return overrideView(saved);
      },
      { auth: true, params: IdParams, body: ScopeBody },
    )
    .get("/api/channels/:id/notifications", async ({ actor, params }) => overrideView(await readOverride(db, actor.userId, { channelId: await requireChannel(actor, params.id) })), { auth: true, params: IdParams })
    .put(
      "/api/channels/:id/notifications",
      async ({ actor, params, body }) => {
        const saved = await writeOverride(db, actor.userId, { channelId: await requireChannel(actor, params.id) }, scopeChange(body), now());
        announceSettingsChanged(deps, actor.userId);
        return overrideView(saved);
      },
      { auth: true, params: IdParams, body: ScopeBody },
    )
    .get("/api/push/subscriptions", async ({ actor }) => ({ enabled: push.enabled, public_key: push.publicKey, subscriptions: await listSubscriptions(db, actor.userId, actor.sessionId) }), { auth: true })
    .post(
      "/api/push/subscriptions",
      async ({ actor, body, set }) => {
        if (!push.enabled) throw new NotFoundError("Push notifications are not enabled on this server.", "PUSH_DISABLED");
        checkEndpoint(body.endpoint, deps.config.production);
        const saved = await saveSubscription(db, actor.userId, actor.sessionId, body, now());
        set.status = saved.created ? 201 : 200;
        return { id: saved.id };
      },
      {
        auth: true,
        body: t.Object({
          endpoint: t.String({ minLength: 1, maxLength: 2048 }),
          keys: t.Object({ p256dh: t.String({ pattern: "^[A-Za-z0-9_-]{80,100}={0,2}$" }), auth: t.String({ pattern: "^[A-Za-z0-9_-]{16,32}={0,2}$" }) }),
          // PushSubscription.toJSON() carries it; the server has no use for it.
          expirationTime: t.Optional(t.Union([t.Number(), t.Null()])),
        }),
      },
    )
    .delete(
      "/api/push/subscriptions/:id",
      async ({ actor, params }) => {
        await deleteSubscription(db, actor.userId, params.id);
        return new Response(null, { status: 204 });
      },
      { auth: true, params: IdParams },
    );
}
