/**
 * Incoming webhooks (issue 18 §1, docs/integrations.md): routes.tsx (POST /webhook/{token}, the
 * channel API, the settings tab and the admin list), service.ts (tokens hashed, rate limits).
 */
export { webhookRoutes } from "./routes.tsx";
export { hashWebhookToken, WEBHOOK_CONTENT_MAX, WEBHOOK_RATE } from "./service.ts";
