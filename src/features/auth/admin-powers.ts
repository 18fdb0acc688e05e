/**
 * Instance-admin powers, split into focused flags (seeds/004) instead of one broad operator role.
 * The owner holds every power implicitly; an admin holds the ones listed in users.admin_powers.
 */
export const ADMIN_POWERS = [
  "users", // suspend, delete, reset passwords
  "invites", // registration invites
  "roles", // grant and revoke admin powers
  "auth_settings",
  "server_settings",
  "privacy",
  "backups",
  "encryption",
  "audit", // read the audit log
  "analytics",
  "updates",
  "directory",
  "storage",
] as const;

export type AdminPower = (typeof ADMIN_POWERS)[number];

export function isAdminPower(value: string): value is AdminPower {
  return (ADMIN_POWERS as readonly string[]).includes(value);
}

export function hasAdminPower(actor: { isOwner: boolean; isAdmin: boolean; adminPowers: readonly string[] }, power: AdminPower): boolean {
  return actor.isOwner || (actor.isAdmin && actor.adminPowers.includes(power));
}
