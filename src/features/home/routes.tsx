/**
 * The landing page. Signed out: straight to /login. Signed in: a simple home with the way to the
 * settings (communities arrive with their own feature).
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../app.ts";
import { page, redirect } from "../../http/render.ts";
import { Layout } from "../../../views/layout.tsx";
import { authGuard, hasAdminPower } from "../auth/index.ts";
import { SignOutButton } from "../auth/views-settings.tsx";

export function homeRoutes(deps: AppDeps) {
  return new Elysia({ name: "home" }).use(authGuard(deps)).get(
    "/",
    ({ actor, request }) => {
      if (!actor) return redirect(request, "/login");
      return page(
        <Layout title="Home" assets={deps.assets.page()} topBar user={{ id: actor.userId, displayName: actor.displayName }} topBarActions={<SignOutButton />}>
          <section class="home stack" data-testid="home">
            <h1>Welcome, {actor.displayName}</h1>
            <p class="muted">You are signed in to Hearth. Communities will appear here.</p>
            <ul class="stack">
              <li>
                <a href="/settings/account">Profile settings</a>
              </li>
              <li>
                <a href="/settings/security">Security: devices, two-factor, password</a>
              </li>
              {hasAdminPower(actor, "invites") ? (
                <li>
                  <a href="/admin/invites">Registration invites</a>
                </li>
              ) : null}
            </ul>
          </section>
        </Layout>,
      );
    },
    { optionalAuth: true },
  );
}
