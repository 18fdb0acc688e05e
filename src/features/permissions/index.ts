/**
 * The one permission model. Everything that decides "may this user do this in this community or
 * channel" calls `can` (pure) or the access helpers (fetch + 404 for outsiders). docs/permissions.md.
 */
export * from "./model.ts";
export * from "./access.ts";
export * from "./load.ts";
