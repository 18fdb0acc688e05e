// The chat frame: community rail + channel sidebar (one "nav" drawer on phones), the main
// pane (header, messages, composer) and a collapsible member panel. Pure layout: the slots
// are filled by the feature views (see chat-parts.tsx for the building blocks).
// Phone behaviour lives in src/client/panels.ts: buttons with data-panel-toggle flip
// data-open on #app-frame and keep aria-expanded in sync; Escape and the scrim close.
import type { Child, FC } from "hono/jsx";
import { Icon } from "./icons.tsx";
import { UserMenu } from "./user-menu.tsx";

export type AppFrameProps = {
  /** Community icons (RailItem list). */
  rail: Child;
  /** Community name header + channel groups. */
  sidebar: Child;
  /** Channel title/topic; the frame adds the phone toggles around it. */
  header: Child;
  /** The message list (or any pane content). */
  main: Child;
  /** Pinned under the main content (the composer); optional for non-chat panes. */
  composer?: Child;
  /** Member list; omit for panes without members (the toggle disappears too). */
  members?: Child;
  /** Accessible names for the regions. */
  navLabel?: string;
  paneLabel?: string;
  /** Start with the member panel collapsed on wide screens. */
  membersCollapsed?: boolean;
  /** The signed-in user: the account menu at the foot of the sidebar. */
  user?: { id: string; displayName: string; avatarUrl?: string | null };
};

export const APP_FRAME_ID = "app-frame";

export const AppFrame: FC<AppFrameProps> = (p) => (
  <div class="app-frame" id={APP_FRAME_ID} data-app-frame data-members={p.members && !p.membersCollapsed ? "shown" : "hidden"}>
    <nav class="app-nav" id="app-nav" aria-label={p.navLabel ?? "Communities and channels"}>
      {/* data-live-region: the live socket module (src/client/live/) re-fetches this page and
          swaps these in when a channel, group or community changes (rename, create, delete). */}
      <div class="rail" id="app-rail" data-live-region>
        {p.rail}
      </div>
      <div class="sidebar">
        <div class="sidebar__live" id="app-sidebar" data-live-region>
          {p.sidebar}
        </div>
        {p.user ? (
          <div class="sidebar__footer">
            <UserMenu user={p.user} place="sidebar" />
          </div>
        ) : null}
      </div>
    </nav>
    <div class="scrim" data-panel-close aria-hidden="true" />
    <section class="pane" aria-label={p.paneLabel ?? "Conversation"}>
      <header class="pane-header">
        {/* Named by its own text, not aria-label: live.js adds the unread totals inside it, and a
            label that did not contain them would not match what is shown (axe label-content-name-mismatch). */}
        <button type="button" class="icon-btn pane-header__nav-toggle" data-panel-toggle="nav" aria-controls="app-nav" aria-expanded="false">
          <Icon name="menu" />
          <span class="visually-hidden">Show channels</span>
        </button>
        <div class="pane-header__main">{p.header}</div>
        {p.members ? (
          <button
            type="button"
            class="icon-btn pane-header__members-toggle"
            data-panel-toggle="members"
            aria-controls="app-members"
            aria-expanded={p.membersCollapsed ? "false" : "true"}
            aria-label="Show members"
          >
            <Icon name="users" />
          </button>
        ) : null}
      </header>
      {/* column-reverse on .pane-body starts the scroll at the bottom (newest messages) and
          keeps it pinned there as content arrives, without any JS. */}
      <div class="pane-body" id="pane-body">
        <div class="pane-body__inner">{p.main}</div>
      </div>
      {p.composer ? <div class="pane-composer">{p.composer}</div> : null}
    </section>
    {p.members ? (
      <aside class="members" id="app-members" aria-label="Members">
        {p.members}
      </aside>
    ) : null}
  </div>
);
