/**
 * Settings › Notifications (docs/notifications.md): the defaults (community channels, DMs),
 * do-not-disturb, a mute for a while, a level and mute per community, desktop notifications in this
 * browser and, when the server has VAPID keys, push on this device (src/client/push-settings.ts
 * does the browser side; without JavaScript the sections say so). Plain POST forms,
 * post/redirect/get; the forms are live regions, re-read when another device changes a setting.
 */
import { announcementBanner } from "../announcements/index.ts";
import { Elysia, t } from "elysia";
import type { FC } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { page, redirect } from "../../http/render.ts";
import { queryOf, text, Uuid } from "../../http/input-schemas.ts";
import { AccountShell, authGuard, shellUserOf, type Actor } from "../auth/index.ts";
import { accessCommunity } from "../permissions/index.ts";
import { CheckboxField, SelectField } from "../../../views/index.ts";
import { MUTE_CHOICES, MUTE_FOREVER, NOTIFY_LEVELS } from "./levels.ts";
import { announceSettingsChanged, muteUntil, readPreferences, writeOverride, writePreferences, type MuteChoice, type NotifyLevel, type Preferences } from "./settings.ts";

const LEVEL_LABELS: Record<NotifyLevel, string> = { all: "All messages", mentions: "Only mentions", none: "Nothing" };
const MUTE_LABELS: Record<MuteChoice, string> = { off: "Not muted", "1h": "Mute for 1 hour", "8h": "Mute for 8 hours", "24h": "Mute for 24 hours", forever: "Mute until I turn it back on" };
const FLASH: Record<string, string> = { saved: "Notification settings saved.", community: "Community notifications saved." };

type CommunityRow = { id: string; name: string; level: NotifyLevel | null; mutedUntil: Date | null };

const muteText = (until: Date | null, now: Date): string | null => {
  if (!until || until.getTime() <= now.getTime()) return null;
  if (until.getTime() >= MUTE_FOREVER.getTime()) return "Muted until you turn it back on.";
  return `Muted until ${until.toISOString().slice(0, 16).replace("T", " ")} UTC.`;
};

/** The mute select: "keep" while a mute is in force, so saving other fields does not lift it. */
const MuteSelect: FC<{ id: string; until: Date | null; now: Date; label: string }> = ({ id, until, now, label }) => {
  const current = muteText(until, now);
  const options = [...(current ? [{ value: "keep", label: `Keep: ${current.replace(/\.$/, "").toLowerCase()}` }] : []), ...MUTE_CHOICES.map((m) => ({ value: m, label: MUTE_LABELS[m] }))];
  return <SelectField id={id} name="mute" label={label} options={options} value={current ? "keep" : "off"} />;
};

const NotificationSettings: FC<{ prefs: Preferences; communities: CommunityRow[]; now: Date; push: { publicKey: string } | null }> = ({ prefs, communities, now, push }) => (
  <div class="stack">
    {/* Live regions: a change made on another device re-renders them here (notify:settings, src/client/live/desktop-notify.ts). */}
    <section class="card stack" aria-labelledby="notify-defaults-h" id="notify-defaults" data-live-region>
      <h2 id="notify-defaults-h">Defaults</h2>
      <p class="muted">The same on every device you use. Direct messages and mentions notify unless you change it.</p>
      <form method="post" action="/settings/notifications" class="stack" data-testid="notify-defaults">
        <SelectField id="notify-level" name="level" label="Community channels" options={NOTIFY_LEVELS.map((l) => ({ value: l, label: LEVEL_LABELS[l] }))} value={prefs.level} />
        <SelectField id="notify-dm-level" name="dm_level" label="Direct messages" options={NOTIFY_LEVELS.map((l) => ({ value: l, label: LEVEL_LABELS[l] }))} value={prefs.dmLevel} />
        <MuteSelect id="notify-mute" until={prefs.mutedUntil} now={now} label="Mute everything" />
        <CheckboxField id="notify-dnd" name="dnd" label="Do not disturb" checked={prefs.dnd} hint="No notifications at all until you turn it off." />
        <div>
          <button type="submit" class="btn btn--primary">
            Save
          </button>
        </div>
      </form>
    </section>
    {communities.length > 0 ? (
      <section class="card stack" aria-labelledby="notify-communities-h" id="notify-communities" data-live-region>
        <h2 id="notify-communities-h">Communities</h2>
        <ul class="notify-communities stack">
          {communities.map((c) => (
            <li>
              <form method="post" action={`/settings/notifications/communities/${c.id}`} class="notify-community" data-testid="notify-community">
                <h3 class="notify-community__name">{c.name}</h3>
                <SelectField
                  id={`notify-c-${c.id}-level`}
                  name="level"
                  label="Notify me about"
                  options={[{ value: "inherit", label: `Default (${LEVEL_LABELS[prefs.level].toLowerCase()})` }, ...NOTIFY_LEVELS.map((l) => ({ value: l, label: LEVEL_LABELS[l] }))]}
                  value={c.level ?? "inherit"}
                />
                <MuteSelect id={`notify-c-${c.id}-mute`} until={c.mutedUntil} now={now} label="Mute" />
                <div>
                  <button type="submit" class="btn btn--sm">
                    Save
                  </button>
                </div>
              </form>
            </li>
          ))}
        </ul>
      </section>
    ) : null}
    <section class="card stack" aria-labelledby="notify-desktop-h" data-desktop-notify>
      <h2 id="notify-desktop-h">Desktop notifications</h2>
      <p class="muted">While Hearth is open in a tab you are not looking at, this browser can show who wrote and where, following the settings above. The message itself is never shown.</p>
      <p data-desktop-status role="status">
        Desktop notifications need JavaScript in this browser.
      </p>
      <div>
        <button type="button" class="btn btn--primary" data-desktop-enable hidden>
          Enable desktop notifications
        </button>
      </div>
    </section>
    {push ? (
      <section class="card stack" aria-labelledby="notify-push-h" data-push-settings data-push-key={push.publicKey}>
        <h2 id="notify-push-h">Push notifications on this device</h2>
        <p class="muted">
          When no Hearth tab is open, this device can still be told that someone wrote: who, where and how many. The message itself stays encrypted and is never part of the notification.
        </p>
        <p data-push-status role="status">
          Push notifications need JavaScript in this browser.
        </p>
        <div class="cluster">
          <button type="button" class="btn btn--primary" data-push-enable hidden>
            Turn on for this device
          </button>
          <button type="button" class="btn" data-push-disable hidden>
            Turn off for this device
          </button>
        </div>
      </section>
    ) : null}
  </div>
);

const Form = t.Object({ level: t.Optional(text(16)), dm_level: t.Optional(text(16)), dnd: t.Optional(text(8)), mute: t.Optional(text(16)) });

function levelOf(raw: string | undefined, field: string, allowInherit = false): NotifyLevel | null | undefined {
  if (raw === undefined) return undefined;
  if (allowInherit && raw === "inherit") return null;
  if ((NOTIFY_LEVELS as readonly string[]).includes(raw)) return raw as NotifyLevel;
  throw new InvalidInputError("Choose one of the listed options.", { [field]: "Choose one of the listed options." });
}

function muteOf(raw: string | undefined, now: Date): { mutedUntil: Date | null } | Record<string, never> {
  if (raw === undefined || raw === "keep") return {};
  if ((MUTE_CHOICES as readonly string[]).includes(raw)) return { mutedUntil: muteUntil(raw as MuteChoice, now) };
  throw new InvalidInputError("Choose one of the listed options.", { mute: "Choose one of the listed options." });
}

export function notificationPages(deps: AppDeps) {
  const db = deps.database.db;
  const now = () => new Date(deps.now?.() ?? Date.now());

  const render = async (actor: Actor, flash?: string) => {
    const prefs = await readPreferences(db, actor.userId);
    const rows = await db
      .selectFrom("community_members as m")
      .innerJoin("communities as c", "c.id", "m.community_id")
      .leftJoin("notification_overrides as o", (j) => j.onRef("o.community_id", "=", "m.community_id").on("o.user_id", "=", actor.userId))
      .select(["c.id", "c.name", "o.level", "o.muted_until"])
      .where("m.user_id", "=", actor.userId)
      .orderBy("c.name")
      .limit(200)
      .execute();
    const communities = rows.map((r) => ({ id: r.id, name: r.name, level: r.level, mutedUntil: r.muted_until === null ? null : new Date(r.muted_until) }));
    const vapid = deps.config.vapid;
    return page(
      <AccountShell
        assets={deps.assets.page(["push-settings.js"])}
        user={shellUserOf(actor)}
        title="Notifications"
        current="notifications"
        flash={flash ? FLASH[flash] : undefined}
        description="What notifies you, everywhere or per community, and push on this device."
        banner={await announcementBanner(deps, actor.userId)}
      >
        <NotificationSettings prefs={prefs} communities={communities} now={now()} push={vapid ? { publicKey: vapid.publicKey } : null} />
      </AccountShell>,
    );
  };

  return new Elysia({ name: "notification-pages" })
    .use(authGuard(deps))
    .get("/settings/notifications", ({ actor, query }) => render(actor, query.saved), { auth: true, query: queryOf({ saved: text(32) }) })
    .post(
      "/settings/notifications",
      async ({ actor, body, request }) => {
        const level = levelOf(body.level, "level");
        const dmLevel = levelOf(body.dm_level, "dm_level");
        await writePreferences(db, actor.userId, { ...(level ? { level } : {}), ...(dmLevel ? { dmLevel } : {}), dnd: body.dnd !== undefined && body.dnd !== "", ...muteOf(body.mute, now()) }, now());
        announceSettingsChanged(deps, actor.userId);
        return redirect(request, "/settings/notifications?saved=saved");
      },
      { auth: true, body: Form },
    )
    .post(
      "/settings/notifications/communities/:id",
      async ({ actor, body, params, request }) => {
        const access = await accessCommunity(db, actor, params.id, now());
        if (!access.subject.member) throw new NotFoundError("No such community.");
        const level = levelOf(body.level, "level", true);
        await writeOverride(db, actor.userId, { communityId: access.community.id }, { ...(level !== undefined ? { level } : {}), ...muteOf(body.mute, now()) }, now());
        announceSettingsChanged(deps, actor.userId);
        return redirect(request, "/settings/notifications?saved=community");
      },
      { auth: true, params: t.Object({ id: Uuid }), body: Form },
    );
}
