/** Community settings sections inside SettingsShell. Each form posts to /c/:id/settings/… */
import type { Child, FC } from "hono/jsx";
import { CheckboxField, ErrorSlot, Field, ImageUpload, SelectField, SettingsShell } from "../../../views/index.ts";
import { ROLE_PERMISSIONS } from "../permissions/index.ts";
import type { MemberView } from "./queries.ts";
import type { RoleView } from "./roles.ts";
import { OVERRIDE_PERMISSIONS } from "./override-permissions.ts";

export const SECTIONS = [
  ["overview", "Overview"],
  ["appearance", "Appearance & emoji"],
  ["channels", "Channels"],
  ["roles", "Roles & permissions"],
  ["members", "Members"],
  ["invites", "Invites"],
  ["webhooks", "Webhooks"],
  ["bans", "Bans"],
  ["reports", "Reports"],
  ["audit", "Audit log"],
] as const;
export type Section = (typeof SECTIONS)[number][0];

export const SettingsFrame: FC<{ communityId: string; name: string; section: Section; visible: Section[]; children?: Child }> = (p) => (
  <SettingsShell
    title={SECTIONS.find(([k]) => k === p.section)![1]}
    description={p.name}
    navLabel="Community settings"
    nav={[
      { items: [{ href: `/c/${p.communityId}`, label: "← Back to chat" }] },
      { title: p.name, items: SECTIONS.filter(([k]) => p.visible.includes(k)).map(([k, label]) => ({ href: `/c/${p.communityId}/settings/${k}`, label, current: k === p.section })) },
    ]}
  >
    {p.children}
  </SettingsShell>
);

/** `confirm`: asked before submitting, naming what will happen (src/client/confirm-forms.ts). */
export type Confirm = { title: string; detail: string; action: string };

export const Form: FC<{ action: string; children?: Child; inline?: boolean; id?: string; confirm?: Confirm }> = (p) => (
  <form
    method="post"
    action={p.action}
    hx-post={p.action}
    hx-target="this"
    hx-swap="outerHTML"
    class={p.inline ? "btn-row" : "form"}
    id={p.id}
    data-confirm={p.confirm?.title}
    data-confirm-detail={p.confirm?.detail}
    data-confirm-action={p.confirm?.action}
  >
    <ErrorSlot />
    {p.children}
  </form>
);

/** A one-button form (revoke, unban, kick, delete…): the same htmx wiring and error slot as Form. */
export const ActionButton: FC<{ action: string; label: string; tone?: "ghost" | "primary" | "secondary" | "danger"; confirm?: Confirm }> = (p) => (
  <Form action={p.action} inline confirm={p.confirm}>
    <button class={`btn btn--${p.tone ?? "ghost"} btn--sm`} type="submit">
      {p.label}
    </button>
  </Form>
);

const POLICY_OPTIONS = [
  { value: "everyone", label: "Everyone" },
  { value: "moderator", label: "Moderators and above" },
  { value: "admin", label: "Admins and owner" },
];

export const OverviewSection: FC<{ base: string; c: { name: string; description: string | null; whoCanCreateGroups: string; whoCanInvite: string; discoverable: boolean }; canEdit: boolean; isOwner: boolean; isMember: boolean; canRecover: boolean; selfId: string; members: MemberView[] }> = (p) => (
  <div class="stack">
    {p.canEdit ? (
      <Form action={`${p.base}/overview`}>
        <Field name="name" label="Name" required maxLength={64} value={p.c.name} />
        <Field name="description" label="Description" type="textarea" rows={3} maxLength={2048} value={p.c.description ?? ""} />
        <SelectField name="who_can_create_groups" label="Who may create groups" options={POLICY_OPTIONS} value={p.c.whoCanCreateGroups} />
        <SelectField name="who_can_invite" label="Who may invite" options={POLICY_OPTIONS} value={p.c.whoCanInvite} />
        <CheckboxField name="discoverable" label="Discoverable" checked={p.c.discoverable} hint="Listed in the server's community directory." />
        <div class="form__actions">
          <button class="btn btn--primary" type="submit">
            Save
          </button>
        </div>
      </Form>
    ) : (
      <p>{p.c.description}</p>
    )}
    {p.canRecover ? (
      <Form action={`${p.base}/transfer`} id="recover-community">
        <p class="muted">As the instance owner you can take over this community (for example when its owner is gone).</p>
        <input type="hidden" name="new_owner_id" value={p.selfId} />
        <div class="form__actions">
          <button class="btn btn--secondary" type="submit">
            Take ownership
          </button>
        </div>
      </Form>
    ) : null}
    {p.isMember ? (
      <Form action={`${p.base}/leave`} inline id="leave-community">
        <button class="btn btn--danger" type="submit">
          Leave community
        </button>
      </Form>
    ) : null}
    {p.isOwner ? (
      <>
        <Form action={`${p.base}/transfer`}>
          <h2>Transfer ownership</h2>
          <SelectField name="new_owner_id" label="New owner" options={p.members.filter((m) => m.role !== "owner").map((m) => ({ value: m.userId, label: m.displayName }))} />
          <div class="form__actions">
            <button class="btn btn--secondary" type="submit">
              Transfer
            </button>
          </div>
        </Form>
        <div x-data="dialog">
          <button type="button" class="btn btn--danger" x-on:click="show">
            Delete community…
          </button>
          <dialog class="dialog" x-ref="dialog" aria-labelledby="delete-title">
            <Form action={`${p.base}/delete`}>
              <div class="dialog__header">
                <h2 class="dialog__title" id="delete-title">
                  Delete {p.c.name}?
                </h2>
              </div>
              <div class="dialog__body">
                <p>Every group, channel, role, invite and ban goes with it. This cannot be undone.</p>
                <Field name="confirm_name" label="Type the community's name to confirm" required />
              </div>
              <div class="dialog__footer">
                <button type="button" class="btn btn--ghost" x-on:click="close">
                  Cancel
                </button>
                <button type="submit" class="btn btn--danger">
                  Delete forever
                </button>
              </div>
            </Form>
          </dialog>
        </div>
      </>
    ) : null}
  </div>
);

type ChannelRow = { id: string; name: string | null; kind: string; topic: string | null; isPrivate: boolean; readOnly: boolean; archived: boolean; slowModeSeconds: number; messageTtlSeconds: number; historyVisibility: "shared" | "joined" };

/** docs/crypto.md "Shared history": what each choice means, in the words the channel header uses. */
const HISTORY_OPTIONS = [
  { value: "shared", label: "Shared: new members can read earlier messages" },
  { value: "joined", label: "From joining: new members read only what is sent after they join" },
];

const ChannelEditor: FC<{ base: string; c: ChannelRow }> = ({ base, c }) => (
  <details class="channel-editor">
    <summary>
      #{c.name} <span class="badge badge--neutral">{c.kind}</span> {c.isPrivate ? <span class="badge">private</span> : null} {c.readOnly ? <span class="badge">read-only</span> : null}{" "}
      {c.archived ? <span class="badge">archived</span> : null} {c.slowModeSeconds ? <span class="badge">slow {c.slowModeSeconds}s</span> : null}{" "}
      {c.historyVisibility === "joined" ? <span class="badge">history from joining</span> : null}
    </summary>
    <Form action={`${base}/channels/${c.id}`}>
      <Field name="name" id={`ce-name-${c.id}`} label="Name" required maxLength={64} value={c.name ?? ""} />
      <Field name="topic" id={`ce-topic-${c.id}`} label="Topic" maxLength={512} value={c.topic ?? ""} />
      <CheckboxField name="read_only" id={`ce-ro-${c.id}`} label="Read-only (only moderators post)" checked={c.readOnly} />
      <CheckboxField name="archived" id={`ce-ar-${c.id}`} label="Archived (nobody posts)" checked={c.archived} />
      <Field name="slow_mode_seconds" id={`ce-slow-${c.id}`} label="Slow mode (seconds, 0–86400)" type="number" min={0} max={86400} value={String(c.slowModeSeconds)} required />
      <Field name="message_ttl_seconds" id={`ce-ttl-${c.id}`} label="Disappearing messages after (seconds, 0 = off, up to 30 days)" type="number" min={0} max={2592000} value={String(c.messageTtlSeconds)} required />
      <SelectField
        name="history_visibility"
        id={`ce-history-${c.id}`}
        label="Message history for new members"
        hint="Shared: members' devices pass the keys of earlier messages to a newcomer's devices, so everything said here before stays readable to anyone who joins later. From joining: newcomers cannot read earlier messages."
        options={HISTORY_OPTIONS}
        value={c.historyVisibility}
      />
      <div class="form__actions">
        <button class="btn btn--primary btn--sm" type="submit">
          Save channel
        </button>
      </div>
    </Form>
    <ActionButton action={`${base}/channels/${c.id}/delete`} tone="danger" label="Delete channel" />
  </details>
);

export const ChannelsSection: FC<{ base: string; groups: { id: string; name: string; channels: ChannelRow[] }[] }> = (p) => (
  <div class="stack">
    <Form action={`${p.base}/groups`} inline>
      <Field name="name" id="new-group-name" label="New group" required maxLength={64} />
      <button class="btn btn--secondary" type="submit">
        Create group
      </button>
    </Form>
    {p.groups.map((g) => (
      <section class="panel">
        <header class="panel__header">
          <h2 class="panel__title">{g.name}</h2>
          <ActionButton action={`${p.base}/groups/${g.id}/delete`} tone="ghost" label="Delete group" />
        </header>
        <div class="panel__body stack">
          <Form action={`${p.base}/groups/${g.id}/rename`} inline>
            <Field name="name" id={`g-name-${g.id}`} label="Group name" required maxLength={64} value={g.name} />
            <button class="btn btn--ghost btn--sm" type="submit">
              Rename
            </button>
          </Form>
          {g.channels.map((c) => (
            <ChannelEditor base={p.base} c={c} />
          ))}
          <Form action={`${p.base}/groups/${g.id}/channels`} inline>
            <Field name="name" id={`ch-name-${g.id}`} label="Channel name" required maxLength={64} />
            <SelectField name="kind" id={`ch-kind-${g.id}`} label="Kind" options={[{ value: "text", label: "Text" }, { value: "voice", label: "Voice" }, { value: "announcement", label: "Announcement" }]} />
            <CheckboxField name="is_private" id={`ch-private-${g.id}`} label="Private" />
            <button class="btn btn--secondary" type="submit">
              Add channel
            </button>
          </Form>
        </div>
      </section>
    ))}
  </div>
);

export type OverrideRow = { id: string; channelId: string; channelName: string | null; baseRole: string | null; roleName: string | null; allow: string[]; deny: string[] };

export const RolesSection: FC<{ base: string; roles: RoleView[]; overrides: OverrideRow[]; channels: { id: string; name: string | null }[] }> = (p) => (
  <div class="stack">
    <p class="muted">Rank: owner › admin › moderator › member. Custom roles add permissions and order members within one rank (higher position first). Nobody acts on someone of equal or higher rank, changes a role ranked at or above them (by its position or anyone holding it), or grants a permission they do not hold.</p>
    {p.roles.length === 0 ? <p class="muted">No custom roles yet.</p> : null}
    <div class="table-wrap" hidden={p.roles.length === 0}>
      <table class="table">
        <thead>
          <tr>
            <th>Role</th>
            <th>Position</th>
            <th>Permissions</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {p.roles.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td>{r.position}</td>
              <td>{r.permissions.join(", ") || "—"}</td>
              <td>
                <ActionButton action={`${p.base}/roles/${r.id}/delete`} tone="ghost" label="Delete" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <h2>Channel overrides</h2>
    <ul class="stack" id="overrides">
      {p.overrides.map((o) => (
        <li class="btn-row">
          <span>
            #{o.channelName} · {o.roleName ?? `all ${o.baseRole}s`}: {o.allow.length ? `allow ${o.allow.join(", ")}` : ""} {o.deny.length ? `deny ${o.deny.join(", ")}` : ""}
          </span>
          <ActionButton action={`${p.base}/overrides/${o.channelId}/${o.id}/delete`} tone="ghost" label="Remove" />
        </li>
      ))}
    </ul>
    <Form action={`${p.base}/overrides`} id="override-form">
      <SelectField name="channel_id" id="ov-channel" label="Channel" options={p.channels.map((c) => ({ value: c.id, label: `#${c.name}` }))} />
      <SelectField
        name="target"
        id="ov-target"
        label="Applies to"
        options={[
          { value: "base:member", label: "All members" },
          { value: "base:moderator", label: "All moderators" },
          ...p.roles.map((r) => ({ value: `role:${r.id}`, label: `Role: ${r.name}` })),
        ]}
      />
      {OVERRIDE_PERMISSIONS.map((perm) => (
        <SelectField
          name={`ov_${perm}`}
          id={`ov-${perm}`}
          label={perm.replace(/_/g, " ")}
          options={[
            { value: "inherit", label: "Inherit" },
            { value: "allow", label: "Allow" },
            { value: "deny", label: "Deny" },
          ]}
          value="inherit"
        />
      ))}
      <div class="form__actions">
        <button class="btn btn--secondary" type="submit">
          Save override
        </button>
      </div>
    </Form>
    <Form action={`${p.base}/roles`}>
      <h2>New role</h2>
      <Field name="name" id="role-name" label="Name" required maxLength={64} />
      <Field name="position" id="role-position" label="Position (1–999)" type="number" min={1} max={999} value="1" required />
      <fieldset class="stack">
        <legend>Permissions</legend>
        {ROLE_PERMISSIONS.map((perm) => (
          <CheckboxField name={`perm_${perm}`} label={perm.replace(/_/g, " ")} />
        ))}
      </fieldset>
      <div class="form__actions">
        <button class="btn btn--primary" type="submit">
          Create role
        </button>
      </div>
    </Form>
  </div>
);


/**
 * Icon, banner, welcome message (edit_community) and custom emoji (manage_emoji): docs/profiles.md.
 * Driven by images-ui.js (the uploads and the emoji list go to the JSON API); the images are not
 * end-to-end encrypted, which each upload control says.
 */
export const AppearanceSection: FC<{ communityId: string; canEdit: boolean; canEmoji: boolean; imagesSrc: string; maxEmoji: number }> = (p) => {
  const api = `/api/communities/${p.communityId}`;
  const members = "every member of this community";
  return (
    <div class="stack" data-images-src={p.imagesSrc}>
      {p.canEdit ? (
        <>
          <section class="card stack" aria-labelledby="icon-h">
            <h2 id="icon-h">Icon</h2>
            <ImageUpload id="community-icon" label="Icon" endpoint={`${api}/icon`} squareCrop removable currentSrc={`${api}/appearance`} currentField="icon_url" audience={members} />
          </section>
          <section class="card stack" aria-labelledby="banner-h">
            <h2 id="banner-h">Banner</h2>
            <ImageUpload id="community-banner" label="Banner" endpoint={`${api}/banner`} removable currentSrc={`${api}/appearance`} currentField="banner_url" audience={members} />
          </section>
          <section class="card stack" aria-labelledby="welcome-h" data-welcome-form={`${api}/welcome`}>
            <h2 id="welcome-h">Welcome message</h2>
            <div class="field">
              <label class="field__label" for="welcome-text">
                Shown to people when they join
              </label>
              <textarea class="field__input" id="welcome-text" rows={4} maxlength={2000} data-welcome-text />
            </div>
            <div class="btn-row">
              <button type="button" class="btn btn--primary btn--sm" data-welcome-save>
                Save welcome message
              </button>
            </div>
            <p role="status" class="muted" data-welcome-status />
          </section>
        </>
      ) : null}
      {p.canEmoji ? (
        <section class="card stack" aria-labelledby="emoji-h" data-emoji-manager data-community-id={p.communityId} data-emoji-max={String(p.maxEmoji)}>
          <h2 id="emoji-h">
            Custom emoji <span class="muted" data-emoji-count />
          </h2>
          <ul class="emoji-admin" data-emoji-list aria-label="Custom emoji of this community" />
          <ImageUpload id="emoji-new" label="New emoji" endpoint={`${api}/emoji`} method="POST" shortcode audience={members} />
        </section>
      ) : null}
    </div>
  );
};
