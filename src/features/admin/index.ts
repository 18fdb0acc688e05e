/**
 * The instance admin area (issue 15, docs/admin.md). Today: the users tab (list, search, detail,
 * suspend/unsuspend, delete, reset links, sign out a user or everyone) and the powers tab. Invites and the audit log still live in the
 * auth feature's settings pages, under the same "Administration" navigation.
 */
export { adminUserRoutes } from "./routes.tsx";
export { adminPowerRoutes } from "./routes-powers.tsx";
export { adminMoreRoutes } from "./routes-more.tsx";
// For hearthctl (src/cli): the same services, the same rules.
export { adminResetLink, adminSuspend, adminUnsuspend, endAllSessions, endUserSessions, listUsers, USER_FILTERS, type UserFilter } from "./users.ts";
export { setAdminPowers } from "./powers.ts";
// For the data-rights feature (admin export and wipe of a user): the same target rules and heirs.
export { checkTarget } from "./users.ts";
export { deletionPlan, type DeletionPlan } from "./delete.ts";
export { adminShell } from "./shell.tsx";
