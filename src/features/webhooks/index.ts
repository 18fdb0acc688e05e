/**
 * Incoming webhooks (issue 18 §1, docs/integrations.md): routes.tsx (POST /webhook/{token}, the
 * channel API, the settings tab and the admin list), service.ts (tokens hashed, rate limits).
 */
import type { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { webhookRoutes as routes } from "./routes.tsx";

/**
 * The plugin with its route types erased: createApp's chain of plugins is at TypeScript's
 * instantiation depth (TS2589), and nothing reads these routes' types (tests call app.handle).
 */
export function webhookRoutes(deps: AppDeps): Elysia {
  return routes(deps) as unknown as Elysia;
}
export { hashWebhookToken, WEBHOOK_CONTENT_MAX, WEBHOOK_RATE } from "./service.ts";
