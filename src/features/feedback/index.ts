/** Feedback to GitHub issues (issue 18 §4, docs/integrations.md "Feedback"). */
import type { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { feedbackRoutes as routes } from "./routes.tsx";

export { FEEDBACK_LABELS, FEEDBACK_RATE, SCREENSHOT_MAX_BYTES } from "./service.ts";

/** Route types erased: createApp's typed chain is at TypeScript's instantiation depth (see app.ts). */
export function feedbackRoutes(deps: AppDeps): Elysia {
  return routes(deps) as unknown as Elysia;
}
