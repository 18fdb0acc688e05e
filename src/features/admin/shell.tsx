/** The admin area's frame: the settings shell with the Administration tabs this actor may open. */
import type { AppDeps } from "../../deps.ts";
import { announcementBanner } from "../announcements/index.ts";
import { AccountShell, hasAdminPower, shellUserOf, type Actor, type AdminPower } from "../auth/index.ts";

/** Each tab's page and the one power that opens it, in navigation order (GET /admin goes to the first open one). */
export const ADMIN_TABS: { power: AdminPower; href: string }[] = [
  { power: "users", href: "/admin/users" },
  { power: "invites", href: "/admin/invites" },
  { power: "audit", href: "/admin/audit-log" },
  { power: "roles", href: "/admin/powers" },
  { power: "directory", href: "/admin/communities" },
  { power: "server_settings", href: "/admin/announcements" },
  { power: "analytics", href: "/admin/usage" },
  { power: "privacy", href: "/admin/webhooks" },
];

export function firstAdminTab(actor: Actor): string {
  return ADMIN_TABS.find((tab) => hasAdminPower(actor, tab.power))?.href ?? "/settings/account";
}

/** Async: the announcement banner is read for the page (src/features/announcements). */
export async function adminShell(deps: AppDeps, actor: Actor, p: { title: string; current: string; flash?: string; description?: string; body: unknown }) {
  return (
    <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title={p.title} current={p.current} flash={p.flash} description={p.description} banner={await announcementBanner(deps, actor.userId)}>
      {p.body as never}
    </AccountShell>
  );
}
