/**
 * iCalendar invitations with ical-generator (docs/decisions/0012): METHOD:REQUEST on create and
 * update (same UID, SEQUENCE + 1 each update), METHOD:CANCEL with STATUS:CANCELLED on cancel;
 * ORGANIZER, one ATTENDEE;RSVP=TRUE (the recipient only: attendees' addresses are not shown to
 * each other), DTSTAMP, DTSTART/DTEND in the meeting's IANA time zone with its VTIMEZONE
 * (@touch4it/ical-timezones). The library escapes text values (line breaks become \n).
 */
import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from "ical-generator";
import { getVtimezoneComponent } from "@touch4it/ical-timezones";

export type InvitationInput = {
  method: "REQUEST" | "CANCEL";
  uid: string;
  sequence: number;
  stamp: Date;
  start: Date;
  end: Date;
  timeZone: string;
  summary: string;
  description: string;
  url?: string;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
};

export function buildInvitation(input: InvitationInput): string {
  const calendar = ical({
    prodId: { company: "Hearth", product: "Hearth", language: "EN" },
    method: input.method === "CANCEL" ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
    // No calendar-wide zone: DTSTAMP stays UTC (…Z); the event's zone brings its VTIMEZONE.
    timezone: { name: null, generator: getVtimezoneComponent },
  });
  calendar.createEvent({
    id: input.uid,
    sequence: input.sequence,
    stamp: input.stamp,
    start: wallClock(input.start, input.timeZone),
    end: wallClock(input.end, input.timeZone),
    timezone: input.timeZone,
    summary: input.summary,
    description: input.description,
    url: input.url ?? null,
    status: input.method === "CANCEL" ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    organizer: { name: input.organizer.name, email: input.organizer.email },
    attendees: [{ name: input.attendee.name, email: input.attendee.email, rsvp: true, role: ICalAttendeeRole.REQ, status: ICalAttendeeStatus.NEEDSACTION }],
  });
  return calendar.toString();
}

/**
 * ical-generator writes a native Date with a TZID as the process's local wall-clock time; this
 * gives the Date whose local fields are the instant's wall-clock time in `timeZone`.
 */
function wallClock(instant: Date, timeZone: string): Date {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return new Date(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
}

/** A time zone Hearth can describe in a VTIMEZONE (IANA names, e.g. Europe/Berlin, UTC). */
export function isKnownTimeZone(name: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
  } catch {
    return false;
  }
  return getVtimezoneComponent(name) !== null;
}
