/**
 * The audit feature (issue 15 §2, docs/admin.md "Audit log"): the tamper-evident hash chain over
 * the instance audit log (rows are written by auth's insertAuditEntry), its jobs, and the admin
 * tab. Other features and scripts come in here:
 *   auditRoutes(deps)                      the /admin/audit-log tab and /api/admin/audit-log…
 *   startAuditJobs(deps)                   seal, anchor, retention (main.ts)
 *   sealAuditLog, verifyAuditLog, pruneAuditLog, checkAnchor, parseAnchor, anchorText (hearthctl, tests)
 */
export { auditRoutes } from "./routes.tsx";
export { anchorAuditLog, startAuditJobs } from "./jobs.ts";
export { anchorText, checkAnchor, parseAnchor, pruneAuditLog, sealAuditLog, verifyAuditLog, type ChainHead, type Checkpoint, type Verification } from "./chain.ts";
