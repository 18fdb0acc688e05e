/**
 * Meetings over HTTP (docs/meetings.md). Permission: the organizer can post in the conversation;
 * everyone else who can see it reads the meeting; attendees RSVP. Unknown ids and conversations
 * the actor cannot see are 404.
 *
 *   POST  /api/channels/{id}/meetings      schedule (201)
 *   GET   /api/channels/{id}/meetings      the conversation's meetings that have not ended
 *   GET   /api/meetings/{id}               one meeting (the organizer also sees the invitations' delivery)
 *   PATCH /api/meetings/{id}               change (organizer; SEQUENCE + 1 and new invitations when something changed)
 *   POST  /api/meetings/{id}/cancel        cancel (organizer; METHOD:CANCEL to the attendees)
 *   PUT   /api/meetings/{id}/rsvp          answer yes / no / maybe (attendees)
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { authGuard } from "../auth/index.ts";
import { baseUrlOf } from "../communities/index.ts";
import { cancelMeeting, createMeeting, getMeeting, listMeetings, MEETING_ATTENDEES_MAX, MEETING_TITLE_MAX, rsvpMeeting, updateMeeting } from "./service.ts";

const Time = (what: string) => t.String({ maxLength: 40, description: `${what}: ISO 8601 with an offset or Z (an instant).` });
const Id = t.String({ maxLength: 64 });
const fields = {
  starts_at: Time("Start"),
  ends_at: Time("End (after the start, at most 14 days later)"),
  time_zone: t.String({ maxLength: 64, description: "IANA time zone the invitation is written in, e.g. Europe/Berlin." }),
  attendee_ids: t.Array(Id, { maxItems: MEETING_ATTENDEES_MAX, description: "Members of the conversation (the organizer is always an attendee)." }),
  voice_channel_id: t.Optional(t.Union([Id, t.Null()], { description: "A voice channel of the same community (not for DMs)." })),
  include_title: t.Optional(t.Boolean({ description: "Put the title into the invitation email and store it on the server (the email is not end-to-end encrypted). Default false: the title then lives only in the conversation's encrypted message." })),
  title: t.Optional(t.Union([t.String({ maxLength: MEETING_TITLE_MAX * 4 }), t.Null()], { description: `Only with include_title: at most ${MEETING_TITLE_MAX} characters; line breaks become spaces.` })),
  message_id: t.Optional(t.Union([Id, t.Null()], { description: "The organizer's encrypted message announcing the meeting in this conversation." })),
};
const CreateBody = t.Object(fields);
const UpdateBody = t.Partial(t.Object(fields));
const RsvpBody = t.Object({ response: t.Union([t.Literal("yes"), t.Literal("no"), t.Literal("maybe")]) });

export function meetingRoutes(deps: AppDeps) {
  return new Elysia({ name: "meetings" })
    .use(authGuard(deps))
    .post("/api/channels/:id/meetings", async ({ actor, params, body, request, set }) => {
      set.status = 201;
      return createMeeting(deps, actor, params.id, body, baseUrlOf(deps, request));
    }, { auth: true, body: CreateBody, detail: { summary: "Schedule a meeting in a channel or DM", tags: ["meetings"] } })
    .get("/api/channels/:id/meetings", async ({ actor, params }) => ({ meetings: await listMeetings(deps, actor, params.id) }), { auth: true, detail: { summary: "The conversation's meetings that have not ended", tags: ["meetings"] } })
    .get("/api/meetings/:id", ({ actor, params }) => getMeeting(deps, actor, params.id), { auth: true, detail: { summary: "One meeting", tags: ["meetings"] } })
    .patch("/api/meetings/:id", ({ actor, params, body, request }) => updateMeeting(deps, actor, params.id, body, baseUrlOf(deps, request)), { auth: true, body: UpdateBody, detail: { summary: "Change a meeting (organizer)", tags: ["meetings"] } })
    .post("/api/meetings/:id/cancel", ({ actor, params, request }) => cancelMeeting(deps, actor, params.id, baseUrlOf(deps, request)), { auth: true, detail: { summary: "Cancel a meeting (organizer)", tags: ["meetings"] } })
    .put("/api/meetings/:id/rsvp", ({ actor, params, body }) => rsvpMeeting(deps, actor, params.id, body.response), { auth: true, body: RsvpBody, detail: { summary: "Answer an invitation", tags: ["meetings"] } });
}
