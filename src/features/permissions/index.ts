/**
 * The one permission model. Everything that decides "may this user do this in this community or
 * channel" calls `can` (pure) or the access helpers (fetch + 404 for outsiders). Every change to
 * who holds what (roles, assignments, overrides, base roles, ownership) goes through
 * `applyChange`, which asks `decideChange` (the hierarchy rule). docs/permissions.md.
 */
export * from "./model.ts";
export * from "./access.ts";
export * from "./load.ts";
export * from "./hierarchy.ts";
export * from "./changes.ts";
export * from "./viewer-versions.ts";
