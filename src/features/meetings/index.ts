/** Meetings with calendar invitations by email (issue 18 §5, docs/meetings.md). */
export { meetingRoutes } from "./routes.ts";
export { cancelMeeting, createMeeting, getMeeting, listMeetings, rsvpMeeting, updateMeeting, type MeetingView } from "./service.ts";
