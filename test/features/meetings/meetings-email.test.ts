// Meetings and email (issue 18 §5, docs/meetings.md) against a REAL SMTP server on loopback
// (smtp-server with STARTTLS and AUTH; test/features/meetings/smtp-helpers.ts): invitations are
// parsed with mailparser and ical.js; the outbox is driven with the test's clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ICAL from "ical.js";
import { sql } from "kysely";
import { simpleParser } from "mailparser";
import { processMailOutbox } from "../../../src/mail/outbox.ts";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Populated } from "../communities/helpers.ts";
import { haveOpenssl, selfSignedCert, startSmtp, type Received, type SmtpRecorder } from "./smtp-helpers.ts";

const USER = "hearth-relay";
const PASSWORD = "relay secret 42";
const OPENSSL = haveOpenssl();
if (!OPENSSL) console.log("skip: the SMTP acceptance tests need the openssl CLI for their self-signed certificate");

const HOUR = 3600_000;
const startIn = (hours: number) => new Date(Math.floor((Date.now() + hours * HOUR) / 60_000) * 60_000).toISOString();

async function verify(ctx: TestContext, userId: string) {
  await ctx.database.db.updateTable("users").set({ email_verified_at: new Date() }).where("id", "=", userId).execute();
}

async function calendarOf(mail: Received) {
  const parsed = await simpleParser(mail.raw);
  const raw = mail.raw;
  const part = parsed.attachments.find((a) => a.contentType === "text/calendar");
  const ics = part ? part.content.toString("utf8") : "";
  const component = new ICAL.Component(ICAL.parse(ics));
  const event = component.getFirstSubcomponent("vevent")!;
  return { parsed, raw, ics, component, event };
}

describe.skipIf(!OPENSSL)("with a STARTTLS + AUTH relay on loopback (password from the secret file)", () => {
  let ctx: TestContext;
  let c: Populated;
  let smtp: SmtpRecorder;
  let secretDir: string;
  let secretPath: string;
  let clock = Date.now();

  beforeAll(async () => {
    smtp = await startSmtp({ user: USER, password: PASSWORD, starttls: true, tls: selfSignedCert() });
    secretDir = mkdtempSync(join(tmpdir(), "hearth-smtp-secret-"));
    secretPath = join(secretDir, "smtp_password");
    writeFileSync(secretPath, `${PASSWORD}\n`);
    // SMTP_PASSWORD unset: the password comes from the (injected) secret file.
    ctx = await communityTestContext({ SMTP_HOST: "127.0.0.1", SMTP_PORT: String(smtp.port), SMTP_USERNAME: USER, SMTP_TLS: "true", EMAIL_FROM: "hearth@example.test", EMAIL_FROM_NAME: "Hearth Test", PUBLIC_URL: "http://hearth.example.test" });
    ctx.deps.mail = { secretPath, tls: { rejectUnauthorized: false }, backoffMs: 60_000, maxAttempts: 3, timeoutMs: 10_000 };
    ctx.deps.now = () => clock;
    c = await populatedCommunity(ctx);
  }, 300_000);
  afterAll(async () => {
    await ctx?.close();
    await smtp?.close();
    rmSync(secretDir, { recursive: true, force: true });
  });
  const drain = () => processMailOutbox(ctx.deps, new Date(clock));

  test("email verification: the link is mailed, confirms once, and the settings page shows the state", async () => {
    const before = smtp.messages.length;
    const address = `verify-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const set = await expectOk(c.member.call("PUT", "/api/account/email", { email: address }));
    expect(set).toEqual({ email: address, verified: false, mail_enabled: true });
    expect(await drain()).toMatchObject({ sent: 1 });
    const mails = smtp.messages.slice(before);
    expect(mails.length).toBe(1);
    expect(mails[0]!.to).toEqual([address]);
    // AUTH happened, and only after STARTTLS; the password is the secret file's.
    expect(smtp.auths.length).toBeGreaterThan(0);
    expect(smtp.auths.every((a) => a.secure && a.ok)).toBe(true);
    const link = /http:\/\/hearth\.example\.test(\/settings\/email\/verify\/[A-Za-z0-9_-]+)/.exec((await simpleParser(mails[0]!.raw)).text ?? "");
    expect(link).not.toBeNull();
    // The token is stored hashed only.
    const token = link![1]!.split("/").pop()!;
    const rows = await ctx.database.db.selectFrom("email_verifications").selectAll().where("user_id", "=", c.member.user.id).execute();
    expect(rows.length).toBe(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    // GET changes nothing (mail scanners open links); POST confirms; the second POST is a 404.
    const page = await ctx.request(link![1]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Confirm my email address");
    expect((await expectOk(c.member.call("GET", "/api/account/email"))).verified).toBe(false);
    const confirm = await ctx.request(link![1]!, { method: "POST", headers: { origin: "http://hearth.example.test", "sec-fetch-site": "same-origin" } });
    expect(confirm.status).toBe(200);
    expect((await expectOk(c.member.call("GET", "/api/account/email"))).verified).toBe(true);
    expect((await ctx.request(link![1]!, { method: "POST", headers: { origin: "http://hearth.example.test", "sec-fetch-site": "same-origin" } })).status).toBe(404);
    const settings = await ctx.request("/settings/account", { headers: c.member.headers });
    expect(await settings.text()).toContain('data-email-state="verified"');
    // Already confirmed: no resend. A changed address is unconfirmed again.
    expect((await c.member.call("POST", "/api/account/email/resend")).status).toBe(409);
    await c.member.call("PUT", "/api/account/email", { email: `again-${address}` });
    expect((await expectOk(c.member.call("GET", "/api/account/email"))).verified).toBe(false);
    // Links are rate-limited per user (3 at once): the two changes used two, one resend, then 429.
    expect((await c.member.call("POST", "/api/account/email/resend")).status).toBe(204);
    const limited = await c.member.call("POST", "/api/account/email/resend");
    expect(limited.status).toBe(429);
    await drain();
  });

  test("create → one REQUEST per verified attendee, none for the unverified; update → same UID, SEQUENCE + 1; cancel → CANCEL", async () => {
    await verify(ctx, c.admin.user.id);
    await verify(ctx, c.moderator.user.id);
    // The member changed its address in the test above and has not confirmed it.
    const before = smtp.messages.length;
    const meeting = await expectOk(
      c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, {
        starts_at: startIn(48),
        ends_at: startIn(49),
        time_zone: "Europe/Berlin",
        attendee_ids: [c.admin.user.id, c.moderator.user.id, c.member.user.id],
        title: "Secret roadmap",
      }),
      201,
    );
    expect(meeting.include_title).toBe(false);
    expect(meeting.title).toBeNull();
    expect(meeting.attendees.length).toBe(4);
    // The title was not opted in: the server stored none.
    const row = await ctx.database.db.selectFrom("meetings").selectAll().where("id", "=", meeting.id).executeTakeFirstOrThrow();
    expect(row.title).toBeNull();
    for (const table of ["meetings", "mail_outbox"] as const) {
      const { rows } = await sql<{ hit: number }>`select count(*)::int as hit from ${sql.table(table)} t where t::text like ${"%Secret roadmap%"}`.execute(ctx.database.db);
      expect(`${table}: ${rows[0]!.hit}`).toBe(`${table}: 0`);
    }
    expect(await drain()).toMatchObject({ sent: 2, failed: 0 });
    const mails = smtp.messages.slice(before);
    expect(mails.map((m) => m.to[0]).sort()).toEqual([c.admin.user.email, c.moderator.user.email].sort());
    const uids = new Set<string>();
    for (const mail of mails) {
      expect(mail.to.length).toBe(1);
      expect(mail.raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
      const { parsed, component, event, ics } = await calendarOf(mail);
      expect(parsed.text).toContain("#general");
      expect(parsed.text).not.toContain("Secret roadmap");
      expect(ics).not.toContain("Secret roadmap");
      expect(parsed.subject).toContain("a meeting in #general");
      expect(component.getFirstPropertyValue("method")).toBe("REQUEST");
      expect(Number(event.getFirstPropertyValue("sequence"))).toBe(0);
      expect(String(event.getFirstPropertyValue("uid"))).toBe(`${meeting.id}@hearth.example.test`);
      uids.add(String(event.getFirstPropertyValue("uid")));
      expect(event.getFirstPropertyValue("dtstamp")).toBeTruthy();
      expect(String(event.getFirstPropertyValue("organizer")).toLowerCase()).toBe("mailto:hearth@example.test");
      const attendees = event.getAllProperties("attendee");
      expect(attendees.length).toBe(1);
      expect(String(attendees[0]!.getFirstValue()).toLowerCase()).toBe(`mailto:${mail.to[0]}`);
      expect(attendees[0]!.getParameter("rsvp")).toBe("TRUE");
      const dtstart = event.getFirstProperty("dtstart")!;
      expect(dtstart.getParameter("tzid")).toBe("Europe/Berlin");
      expect(component.getFirstSubcomponent("vtimezone")?.getFirstPropertyValue("tzid")).toBe("Europe/Berlin");
      // The instant survives the time zone: DTSTART in Berlin is the requested UTC start.
      const zone = new ICAL.Timezone(component.getFirstSubcomponent("vtimezone")!);
      const start = (dtstart.getFirstValue() as ICAL.Time);
      start.zone = zone;
      expect(start.toJSDate().toISOString()).toBe(new Date(meeting.starts_at).toISOString());
    }
    expect(uids.size).toBe(1);
    // The organizer sees the delivery; others do not.
    expect((await expectOk(c.owner.call("GET", `/api/meetings/${meeting.id}`))).delivery).toMatchObject({ sent: 2, pending: 0, failed: 0 });
    expect((await expectOk(c.admin.call("GET", `/api/meetings/${meeting.id}`))).delivery).toBeNull();

    // Update: same UID, SEQUENCE 1, REQUEST.
    const afterCreate = smtp.messages.length;
    const updated = await expectOk(c.owner.call("PATCH", `/api/meetings/${meeting.id}`, { starts_at: startIn(50), ends_at: startIn(51) }));
    expect(updated.sequence).toBe(1);
    expect(await drain()).toMatchObject({ sent: 2 });
    for (const mail of smtp.messages.slice(afterCreate)) {
      const { component, event } = await calendarOf(mail);
      expect(component.getFirstPropertyValue("method")).toBe("REQUEST");
      expect(String(event.getFirstPropertyValue("uid"))).toBe(`${meeting.id}@hearth.example.test`);
      expect(Number(event.getFirstPropertyValue("sequence"))).toBe(1);
    }
    // A change that is not mail-relevant (nothing new) bumps nothing and sends nothing.
    const same = await expectOk(c.owner.call("PATCH", `/api/meetings/${meeting.id}`, {}));
    expect(same.sequence).toBe(1);
    expect(await drain()).toMatchObject({ sent: 0 });

    // Cancel: METHOD:CANCEL, SEQUENCE 2.
    const afterUpdate = smtp.messages.length;
    const cancelled = await expectOk(c.owner.call("POST", `/api/meetings/${meeting.id}/cancel`));
    expect(cancelled.cancelled_at).not.toBeNull();
    expect(await drain()).toMatchObject({ sent: 2 });
    const cancels = smtp.messages.slice(afterUpdate);
    expect(cancels.length).toBe(2);
    for (const mail of cancels) {
      expect(mail.raw).toMatch(/method=CANCEL/i);
      const { component, event } = await calendarOf(mail);
      expect(component.getFirstPropertyValue("method")).toBe("CANCEL");
      expect(Number(event.getFirstPropertyValue("sequence"))).toBe(2);
      expect(event.getFirstPropertyValue("status")).toBe("CANCELLED");
    }
    // Sent rows keep no bodies.
    const sentRows = await ctx.database.db.selectFrom("mail_outbox").selectAll().where("meeting_id", "=", meeting.id).execute();
    expect(sentRows.every((r) => r.sent_at !== null && r.text_body === "" && r.ical === null)).toBe(true);
  });

  test("the title goes into the mail only when the organizer opted in; CR/LF in any field injects no header", async () => {
    const before = smtp.messages.length;
    const hostile = "Launch\r\nBcc: victim@evil.test\r\nX-Injected: 1\nSubject: pwned";
    const meeting = await expectOk(
      c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(24), ends_at: startIn(25), time_zone: "UTC", attendee_ids: [c.admin.user.id], include_title: true, title: hostile }),
      201,
    );
    expect(meeting.title).not.toMatch(/[\r\n]/);
    expect(await drain()).toMatchObject({ sent: 1 });
    const mails = smtp.messages.slice(before);
    expect(mails.length).toBe(1);
    expect(mails[0]!.to).toEqual([c.admin.user.email]);
    const headerBlock = mails[0]!.raw.split(/\r?\n\r?\n/)[0]!;
    expect(headerBlock).not.toMatch(/^Bcc:/im);
    expect(headerBlock).not.toMatch(/^X-Injected:/im);
    expect(headerBlock.match(/^Subject:/gim)?.length).toBe(1);
    const { parsed, event } = await calendarOf(mails[0]!);
    expect(parsed.subject).toContain("Launch");
    expect(parsed.bcc).toBeUndefined();
    expect(String(event.getFirstPropertyValue("summary"))).toContain("Launch");
    expect(parsed.headers.has("x-injected")).toBe(false);
  });

  test("permissions: outsiders get 404 on every id route; only the organizer edits; only attendees answer", async () => {
    const meeting = await expectOk(c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "UTC", attendee_ids: [c.admin.user.id] }), 201);
    for (const [method, path, body] of [
      ["GET", `/api/meetings/${meeting.id}`, undefined],
      ["PATCH", `/api/meetings/${meeting.id}`, { time_zone: "UTC" }],
      ["POST", `/api/meetings/${meeting.id}/cancel`, undefined],
      ["PUT", `/api/meetings/${meeting.id}/rsvp`, { response: "yes" }],
      ["GET", `/api/channels/${c.generalChannelId}/meetings`, undefined],
      ["POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "UTC", attendee_ids: [] }],
    ] as const) {
      const res = await c.outsider.call(method, path, body);
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 404`);
    }
    expect((await c.admin.call("PATCH", `/api/meetings/${meeting.id}`, { time_zone: "UTC" })).status).toBe(403);
    expect((await c.admin.call("POST", `/api/meetings/${meeting.id}/cancel`)).status).toBe(403);
    expect((await c.moderator.call("PUT", `/api/meetings/${meeting.id}/rsvp`, { response: "yes" })).status).toBe(403);
    const answered = await expectOk(c.admin.call("PUT", `/api/meetings/${meeting.id}/rsvp`, { response: "maybe" }));
    expect(answered.my_rsvp).toBe("maybe");
    expect(answered.attendees.find((a: { user_id: string }) => a.user_id === c.admin.user.id).rsvp).toBe("maybe");
    // Attendees must be members of the conversation; bad input is a 400 naming the field.
    const bad = await c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "UTC", attendee_ids: [c.outsider.user.id] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_ATTENDEE");
    expect((await c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(29), time_zone: "UTC", attendee_ids: [] })).status).toBe(400);
    expect((await c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "Mars/Olympus", attendee_ids: [] })).status).toBe(400);
    expect((await c.owner.call("GET", `/api/meetings/${crypto.randomUUID()}`)).status).toBe(404);
    // A voice channel of the community may be linked; a text channel may not.
    const voice = await expectOk(c.owner.call("POST", `/api/groups/${c.groupId}/channels`, { name: "Standup", kind: "voice" }), 201);
    const withVoice = await expectOk(c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "UTC", attendee_ids: [], voice_channel_id: voice.id }), 201);
    expect(withVoice.voice_channel_id).toBe(voice.id);
    expect((await c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "UTC", attendee_ids: [], voice_channel_id: c.generalChannelId })).status).toBe(400);
    // In a DM, both participants may schedule.
    const dm = await expectOk(c.member.call("POST", "/api/dms", { user_id: c.admin.user.id }));
    const inDm = await expectOk(c.member.call("POST", `/api/channels/${dm.channel_id}/meetings`, { starts_at: startIn(30), ends_at: startIn(31), time_zone: "UTC", attendee_ids: [c.admin.user.id] }), 201);
    expect(inDm.channel_id).toBe(dm.channel_id);
    expect((await c.owner.call("GET", `/api/meetings/${inDm.id}`)).status).toBe(404);
    await drain();
  });

  test("a wrong password is retried with exponential backoff, shown to the organizer, then failed", async () => {
    await drain();
    writeFileSync(secretPath, "wrong password\n");
    try {
      const meeting = await expectOk(c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(60), ends_at: startIn(61), time_zone: "UTC", attendee_ids: [c.admin.user.id] }), 201);
      const received = smtp.messages.length;
      const failedAuths = () => smtp.auths.filter((a) => !a.ok).length;
      const auths0 = failedAuths();
      expect(await drain()).toMatchObject({ sent: 0, retried: 1 });
      expect(failedAuths()).toBe(auths0 + 1);
      let shown = await expectOk(c.owner.call("GET", `/api/meetings/${meeting.id}`));
      expect(shown.delivery).toMatchObject({ pending: 1, sent: 0, failed: 0, attempts: 1 });
      expect(shown.delivery.last_error).toContain("refused Hearth's login");
      expect(new Date(shown.delivery.next_attempt_at).getTime()).toBe(clock + 60_000);
      // Not due yet: no new attempt.
      clock += 59_000;
      expect(await drain()).toMatchObject({ retried: 0 });
      expect(failedAuths()).toBe(auths0 + 1);
      // Due: attempt 2, then the delay doubles.
      clock += 1_000;
      expect(await drain()).toMatchObject({ retried: 1 });
      shown = await expectOk(c.owner.call("GET", `/api/meetings/${meeting.id}`));
      expect(new Date(shown.delivery.next_attempt_at).getTime()).toBe(clock + 120_000);
      // Attempt 3 of 3 fails for good.
      clock += 120_000;
      expect(await drain()).toMatchObject({ failed: 1 });
      shown = await expectOk(c.owner.call("GET", `/api/meetings/${meeting.id}`));
      expect(shown.delivery).toMatchObject({ pending: 0, failed: 1, next_attempt_at: null });
      expect(shown.delivery.last_error).toContain("refused Hearth's login");
      expect(failedAuths()).toBe(auths0 + 3);
      expect(smtp.messages.length).toBe(received);
    } finally {
      writeFileSync(secretPath, `${PASSWORD}\n`);
    }
  });
});

describe.skipIf(!OPENSSL)("SMTP_TLS=true against a relay without STARTTLS", () => {
  let ctx: TestContext;
  let c: Populated;
  let smtp: SmtpRecorder;
  beforeAll(async () => {
    smtp = await startSmtp({ user: USER, password: PASSWORD, starttls: false });
    ctx = await communityTestContext({ SMTP_HOST: "127.0.0.1", SMTP_PORT: String(smtp.port), SMTP_USERNAME: USER, SMTP_PASSWORD: PASSWORD, SMTP_TLS: "true", EMAIL_FROM: "hearth@example.test" });
    ctx.deps.mail = { tls: { rejectUnauthorized: false }, timeoutMs: 10_000 };
    c = await populatedCommunity(ctx);
  }, 300_000);
  afterAll(async () => {
    await ctx?.close();
    await smtp?.close();
  });

  test("nothing is sent and the server sees no AUTH; the organizer sees why", async () => {
    await verify(ctx, c.admin.user.id);
    const meeting = await expectOk(c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(5), ends_at: startIn(6), time_zone: "UTC", attendee_ids: [c.admin.user.id] }), 201);
    expect(await processMailOutbox(ctx.deps)).toMatchObject({ sent: 0, retried: 1 });
    expect(smtp.connections).toBe(1);
    expect(smtp.auths.length).toBe(0);
    expect(smtp.messages.length).toBe(0);
    const shown = await expectOk(c.owner.call("GET", `/api/meetings/${meeting.id}`));
    expect(shown.delivery.last_error).toContain("STARTTLS");
  });
});

describe("email off", () => {
  let smtp: SmtpRecorder;
  let ctx: TestContext;
  let c: Populated;
  beforeAll(async () => {
    smtp = await startSmtp({ user: USER, password: PASSWORD, starttls: false });
    // SMTP_HOST without EMAIL_FROM: email is disabled (seeds/001), so not even this server is contacted.
    ctx = await communityTestContext({ SMTP_HOST: "127.0.0.1", SMTP_PORT: String(smtp.port), SMTP_TLS: "false" });
    c = await populatedCommunity(ctx);
  }, 300_000);
  afterAll(async () => {
    await ctx?.close();
    await smtp?.close();
  });

  test("meetings work, nothing is queued and no connection is attempted", async () => {
    expect(ctx.config.smtp).toBeUndefined();
    await verify(ctx, c.admin.user.id);
    const meeting = await expectOk(c.owner.call("POST", `/api/channels/${c.generalChannelId}/meetings`, { starts_at: startIn(5), ends_at: startIn(6), time_zone: "UTC", attendee_ids: [c.admin.user.id] }), 201);
    expect(meeting.delivery).toBeNull();
    expect((await expectOk(c.admin.call("PUT", `/api/meetings/${meeting.id}/rsvp`, { response: "no" }))).my_rsvp).toBe("no");
    expect((await expectOk(c.owner.call("GET", `/api/channels/${c.generalChannelId}/meetings`))).meetings.length).toBe(1);
    const email = await expectOk(c.member.call("PUT", "/api/account/email", { email: "new-address@example.test" }));
    expect(email).toEqual({ email: "new-address@example.test", verified: false, mail_enabled: false });
    expect(await processMailOutbox(ctx.deps)).toEqual({ sent: 0, failed: 0, retried: 0 });
    const queued = await ctx.database.db.selectFrom("mail_outbox").select("id").execute();
    expect(queued.length).toBe(0);
    expect(smtp.connections).toBe(0);
  });
});
