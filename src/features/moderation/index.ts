/**
 * Moderation's public face:
 *   isTimedOut(db, userId, communityId, now?)   messaging/voice refuse send, react, join while true
 *   pendingMessagePurges(db), markMessagePurgeDone(db, id)   the ban "delete last N days" hook
 */
export { isTimedOut, pendingMessagePurges, markMessagePurgeDone, MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from "./service.ts";
export { kickMember, banUser, unbanUser, listBans, timeoutMember, removeTimeout, listTimeouts, warnMember, listWarnings } from "./service.ts";
export { createReport, listReports, closeReport } from "./reports.ts";
export { escalateReport, listEscalatedReports, closeEscalatedReport, ESCALATION_FILTERS, type EscalatedReport, type EscalationFilter } from "./escalations.ts";
export { listReportFiles, isInlineReportImage, REPORT_FILES_BODY_BUDGET, REPORT_FILES_MAX_BYTES, REPORT_FILES_MAX_COUNT, type ReportFileView } from "./report-files.ts";
