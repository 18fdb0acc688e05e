/** The Settings tab (issue 15 §1, docs/admin.md "Settings"): the effective configuration, redacted, and the runtime modes. */
export { serverSettingsRoutes } from "./routes.tsx";
export { redactedConfig, REDACTED } from "./redact.ts";
