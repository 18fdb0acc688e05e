// The account menu: the signed-in user's avatar and name as a button that opens status, the
// profile card, settings and sign-out. A native <details>: it opens and closes by keyboard and
// without JavaScript; src/client/user-menu.ts adds Escape and click-outside. The status <select>
// starts disabled and the live socket module (src/client/live/) enables it once it can send
// presence:set. Sign-out is a plain POST form (CSRF: the same-origin check, src/features/auth/csrf.ts).
import type { FC } from "hono/jsx";
import { Avatar } from "./avatar.tsx";

export type UserMenuProps = {
  user: { id: string; displayName: string; avatarUrl?: string | null };
  /** "sidebar": the foot of the chat frame's sidebar (opens upwards); "topbar": document pages. */
  place: "sidebar" | "topbar";
};

const STATUSES = [
  ["online", "Online"],
  ["idle", "Idle"],
  ["dnd", "Do not disturb"],
  ["invisible", "Invisible"],
] as const;

export const UserMenu: FC<UserMenuProps> = (p) => (
  <details class={`user-menu user-menu--${p.place}`} data-user-menu>
    <summary class="user-menu__button" data-testid="user-menu">
      <Avatar userId={p.user.id} name={p.user.displayName} imageUrl={p.user.avatarUrl} size="sm" person />
      <span class="user-menu__name">{p.user.displayName}</span>
      <span class="visually-hidden">, account menu</span>
    </summary>
    <div class="user-menu__panel">
      <label class="presence-picker user-menu__status">
        <span class="presence-picker__label">Status</span>
        <select class="input input--sm" data-presence-picker disabled>
          {STATUSES.map(([value, label]) => (
            <option value={value}>{label}</option>
          ))}
        </select>
      </label>
      <ul class="user-menu__list">
        <li>
          <button type="button" class="user-menu__item" data-switcher-open hidden aria-keyshortcuts="Control+K Meta+K">
            Jump to… <kbd class="user-menu__kbd">Ctrl K</kbd>
          </button>
        </li>
        <li>
          <button type="button" class="user-menu__item" data-profile-self={p.user.id}>
            Profile card
          </button>
        </li>
        <li>
          <a class="user-menu__item" href="/settings/account">
            Settings
          </a>
        </li>
        <li>
          <a class="user-menu__item" href="/">
            Home
          </a>
        </li>
        <li>
          <form method="post" action="/logout" class="user-menu__form">
            <button type="submit" class="user-menu__item user-menu__item--danger" data-testid="menu-sign-out">
              Sign out
            </button>
          </form>
        </li>
      </ul>
    </div>
  </details>
);
