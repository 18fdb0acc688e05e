// Settings / admin pages: side nav + content. On phones the nav becomes a horizontal,
// scrollable strip above the content (nothing to toggle, nothing overflows the page).
import type { FC, PropsWithChildren } from "hono/jsx";

export type SettingsNavItem = { href: string; label: string; current?: boolean };
export type SettingsNavSection = { title?: string; items: SettingsNavItem[] };

export type SettingsShellProps = PropsWithChildren<{
  title: string;
  description?: string;
  nav: SettingsNavSection[];
  navLabel?: string;
}>;

export const SettingsShell: FC<SettingsShellProps> = (p) => (
  <div class="settings">
    <nav class="settings__nav" aria-label={p.navLabel ?? "Settings"}>
      {p.nav.map((section) => (
        <div class="settings__nav-section">
          {section.title ? <p class="settings__nav-title">{section.title}</p> : null}
          <ul class="settings__nav-list">
            {section.items.map((item) => (
              <li>
                <a class="settings__nav-link" href={item.href} aria-current={item.current ? "page" : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </nav>
    <div class="settings__content">
      <header class="settings__header">
        <h1 class="settings__title">{p.title}</h1>
        {p.description ? <p class="settings__description">{p.description}</p> : null}
      </header>
      {p.children}
    </div>
  </div>
);
