/**
 * The landing page. Until accounts exist it says what Hearth is and where to go next.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../app.ts";
import { page } from "../../http/render.ts";
import { Layout } from "../../../views/layout.tsx";

export function homeRoutes(deps: AppDeps) {
  return new Elysia({ name: "home" }).get("/", () =>
    page(
      <Layout title="Welcome" assets={deps.assets.page()}>
        <section class="welcome">
          <h1>Hearth</h1>
          <p>Self-hosted, end-to-end-encrypted team chat.</p>
        </section>
      </Layout>,
    ),
  );
}
