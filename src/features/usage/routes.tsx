/** The Usage tab (docs/admin.md "Usage"), power `analytics`: GET /api/admin/usage and GET /admin/usage. */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { page } from "../../http/render.ts";
import { announcementBanner } from "../announcements/index.ts";
import { AccountShell, authGuard, shellUserOf } from "../auth/index.ts";
import { readUsage, type Usage } from "./service.ts";
import { UsagePage } from "./views.tsx";

const usageJson = (u: Usage) => ({
  generated_at: u.generatedAt.toISOString(),
  users: { total: u.users.total, suspended: u.users.suspended, active_7d: u.users.active7d, active_30d: u.users.active30d },
  messages_per_day: u.messagesPerDay,
  sockets: { this_instance: u.sockets.thisInstance, scope: u.sockets.scope },
  files: u.files,
  database: u.database,
});

export function usageRoutes(deps: AppDeps) {
  return new Elysia({ name: "usage" })
    .use(authGuard(deps))
    .get("/api/admin/usage", async () => usageJson(await readUsage(deps)), { admin: "analytics" })
    .get(
      "/admin/usage",
      async ({ actor }) =>
        page(
          <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title="Usage" current="usage" description="How much this instance is used: counts and sizes, no content." banner={await announcementBanner(deps, actor.userId)}>
            <UsagePage usage={await readUsage(deps)} />
          </AccountShell>,
        ),
      { admin: "analytics" },
    );
}
