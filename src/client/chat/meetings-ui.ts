// Meetings (docs/meetings.md), in the lazily loaded extras chunk: the "Meeting…" dialog and the
// strip of the conversation's meetings above the messages, with RSVP buttons and, for the
// organizer, the invitation emails' delivery state and Cancel. The title and description travel
// in an ordinary encrypted message of the conversation; the server gets the title only when the
// organizer ticks the box that says it goes into the (not end-to-end encrypted) email.
import type { ExtrasContext } from "./extras-types.ts";
import { button, field, formatWhen, formError, h, openDialog, toLocalInput, uid } from "./ui-kit.ts";

type Rsvp = "yes" | "no" | "maybe";
interface Meeting {
  id: string;
  organizer_id: string | null;
  title: string | null;
  starts_at: string;
  ends_at: string;
  time_zone: string;
  message_id: string | null;
  cancelled_at: string | null;
  attendees: { user_id: string; display_name: string; rsvp: Rsvp | null }[];
  my_rsvp: Rsvp | null;
  delivery: { pending: number; sent: number; failed: number; last_error: string | null; next_attempt_at: string | null } | null;
}

const EMAIL_NOTE = "Invitation emails are not end-to-end encrypted. Without this box they say only “a meeting in this conversation at <time>”; with it, the title goes into the email and is stored on the server.";
const MARK = "📅 ";

export class MeetingStrip {
  private readonly section = h("section", "polls meetings");
  private readonly details = h("details", "polls__details");
  private readonly summary = h("summary", "polls__summary");
  private readonly list = h("ul", "polls__list");
  private readonly error = formError();
  private meetings: Meeting[] = [];
  /** Titles read from the announcing encrypted messages, by meeting id. */
  private readonly titles = new Map<string, string>();

  constructor(private readonly ctx: ExtrasContext) {
    this.section.setAttribute("aria-label", "Meetings");
    this.section.hidden = true;
    this.details.append(this.summary, this.list, this.error.el);
    this.section.append(this.details);
    ctx.scroller.before(this.section);
  }

  async load(): Promise<void> {
    const { meetings } = await this.ctx.call<{ meetings: Meeting[] }>("GET", `/api/channels/${this.ctx.channelId}/meetings`);
    this.meetings = meetings;
    this.details.open = meetings.some((m) => !m.cancelled_at);
    this.render();
    for (const m of meetings) void this.readTitle(m);
  }

  private async readTitle(m: Meeting): Promise<void> {
    if (!m.message_id || this.titles.has(m.id)) return;
    try {
      const { message } = await this.ctx.call<{ message: Record<string, unknown> }>("GET", `/api/channels/${this.ctx.channelId}/messages/${m.message_id}`);
      const normal = this.ctx.normalise(message);
      if (!normal) return;
      const out = await this.ctx.engine.decrypt(normal);
      if (out.status !== "ok") return;
      const first = out.text.split("\n")[0] ?? "";
      if (first.startsWith(MARK)) {
        this.titles.set(m.id, first.slice(MARK.length));
        this.render();
      }
    } catch {
      // the card keeps its generic title
    }
  }

  private render(): void {
    this.section.hidden = this.meetings.length === 0;
    this.summary.textContent = `Meetings (${this.meetings.filter((m) => !m.cancelled_at).length})`;
    this.list.replaceChildren(...this.meetings.map((m) => this.card(m)));
  }

  private card(m: Meeting): HTMLElement {
    const li = h("li", "poll meeting-card");
    li.dataset.meetingId = m.id;
    const title = this.titles.get(m.id) ?? m.title ?? "Meeting";
    li.append(h("p", "poll__question", m.cancelled_at ? `${title} (cancelled)` : title));
    li.append(h("p", "poll__meta", `${formatWhen(m.starts_at)} – ${formatWhen(m.ends_at)} · ${m.time_zone}`));
    const count = (r: Rsvp) => m.attendees.filter((a) => a.rsvp === r).length;
    li.append(h("p", "poll__meta", `${m.attendees.length} invited · ${count("yes")} yes · ${count("maybe")} maybe · ${count("no")} no`));
    const mine = m.attendees.some((a) => a.user_id === this.ctx.selfId);
    if (mine && !m.cancelled_at) {
      const group = h("div", "meeting-card__rsvp");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", `Your answer: ${title}`);
      for (const [value, label] of [["yes", "Yes"], ["maybe", "Maybe"], ["no", "No"]] as const) {
        const b = button(label, m.my_rsvp === value ? "btn btn--primary btn--sm" : "btn btn--secondary btn--sm");
        b.setAttribute("aria-pressed", String(m.my_rsvp === value));
        b.addEventListener("click", () => void this.act(() => this.ctx.call<Meeting>("PUT", `/api/meetings/${m.id}/rsvp`, { response: value }), `.meeting-card[data-meeting-id="${m.id}"] [aria-pressed="true"]`));
        group.append(b);
      }
      li.append(group);
    }
    if (m.organizer_id === this.ctx.selfId) {
      if (m.delivery) {
        const d = m.delivery;
        const status = h("p", d.failed > 0 || d.last_error ? "poll__meta meeting-card__delivery meeting-card__delivery--problem" : "poll__meta meeting-card__delivery");
        status.textContent =
          `Emails: ${d.sent} sent` + (d.pending ? `, ${d.pending} waiting` : "") + (d.failed ? `, ${d.failed} failed` : "") + (d.last_error ? ` — ${d.last_error}${d.next_attempt_at ? ` Next try ${formatWhen(d.next_attempt_at)}.` : ""}` : "");
        li.append(status);
      }
      if (!m.cancelled_at) {
        const cancel = button("Cancel meeting", "btn btn--ghost btn--sm");
        cancel.setAttribute("aria-label", `Cancel meeting: ${title}`);
        cancel.addEventListener("click", () => void this.act(() => this.ctx.call<Meeting>("POST", `/api/meetings/${m.id}/cancel`), null));
        li.append(cancel);
      }
    }
    return li;
  }

  private async act(run: () => Promise<Meeting>, focusAfter: string | null): Promise<void> {
    this.error.set(null);
    try {
      const updated = await run();
      this.meetings = this.meetings.map((m) => (m.id === updated.id ? updated : m));
      this.render();
      if (focusAfter) this.list.querySelector<HTMLElement>(focusAfter)?.focus();
    } catch (err) {
      this.error.set((err as Error).message);
    }
  }

  added(m: Meeting, title: string): void {
    this.titles.set(m.id, title);
    this.meetings = [...this.meetings.filter((x) => x.id !== m.id), m].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    this.details.open = true;
    this.render();
  }

  dispose(): void {
    this.section.remove();
  }
}

/** "Meeting…": title, description, start, end, time zone, attendees, and the email opt-in. */
export function openMeetingDialog(ctx: ExtrasContext, strip: MeetingStrip, opener: HTMLElement): void {
  const d = openDialog("Schedule a meeting", opener, { form: true, wide: true });
  const form = d.form!;
  const title = field("Title", Object.assign(h("input", "input"), { maxLength: 200, required: true }));
  const description = field("Description", Object.assign(h("textarea", "textarea"), { rows: 3, maxLength: 2000 }), "Shown only in this conversation (end-to-end encrypted).");
  const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const starts = field("Starts", Object.assign(h("input", "input"), { type: "datetime-local", value: toLocalInput(start) }));
  const ends = field("Ends", Object.assign(h("input", "input"), { type: "datetime-local", value: toLocalInput(new Date(start.getTime() + 3_600_000)) }));
  const zone = field("Time zone", Object.assign(h("input", "input"), { value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", maxLength: 64 }), "An IANA name such as Europe/Berlin; the invitation is written in it.");
  const people = h("fieldset", "field meeting-dialog__people");
  people.append(h("legend", "field__label", "Attendees"));
  const boxes: HTMLInputElement[] = [];
  for (const [id, name] of ctx.names) {
    if (id === ctx.selfId) continue;
    const row = h("div", "checkbox");
    const box = Object.assign(h("input"), { type: "checkbox", value: id, id: uid("att"), checked: true });
    const label = h("label", undefined, name);
    label.htmlFor = box.id;
    row.append(box, label);
    people.append(row);
    boxes.push(box);
  }
  if (boxes.length === 0) people.append(h("p", "field__hint", "Nobody else in this conversation yet."));
  const optRow = h("div", "checkbox");
  const optIn = Object.assign(h("input"), { type: "checkbox", id: uid("opt") });
  const optLabel = h("label", undefined, "Put the title in the invitation email");
  optLabel.htmlFor = optIn.id;
  const optHint = h("p", "field__hint", EMAIL_NOTE);
  optHint.id = `${optIn.id}-hint`;
  optIn.setAttribute("aria-describedby", optHint.id);
  optRow.append(optIn, optLabel);
  const error = formError();
  const submit = button("Schedule", "btn btn--primary", "submit");
  const cancel = button("Cancel", "btn btn--secondary");
  cancel.addEventListener("click", d.close);
  d.body.append(title.wrap, description.wrap, starts.wrap, ends.wrap, zone.wrap, people, optRow, optHint, error.el);
  d.footer.append(cancel, submit);
  title.control.focus();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      for (const f of [title, starts, ends, zone]) f.setError(null);
      error.set(null);
      const t = title.control.value.replace(/\s+/g, " ").trim();
      const from = new Date(starts.control.value);
      const to = new Date(ends.control.value);
      if (!t) return title.setError("Give the meeting a title."), title.control.focus();
      if (Number.isNaN(from.getTime())) return starts.setError("Pick a date and time."), starts.control.focus();
      if (Number.isNaN(to.getTime()) || to <= from) return ends.setError("Pick an end after the start."), ends.control.focus();
      submit.disabled = true;
      try {
        const meeting = await ctx.call<Meeting>("POST", `/api/channels/${ctx.channelId}/meetings`, {
          starts_at: from.toISOString(),
          ends_at: to.toISOString(),
          time_zone: zone.control.value.trim(),
          attendee_ids: boxes.filter((b) => b.checked).map((b) => b.value),
          include_title: optIn.checked,
          ...(optIn.checked ? { title: t } : {}),
        });
        // The announcement: an ordinary encrypted message of the conversation.
        const text = `${MARK}${t}\n${formatWhen(from)} – ${formatWhen(to)} (${meeting.time_zone})${description.control.value.trim() ? `\n${description.control.value.trim()}` : ""}`;
        try {
          const clientId = crypto.randomUUID();
          const { ciphertext, remember } = await ctx.encryptForReaders(text);
          await remember(`client:${clientId}`);
          const sent = await ctx.call<{ message: { id: string } }>("POST", `/api/channels/${ctx.channelId}/messages`, { client_id: clientId, scheme: ctx.scheme, ciphertext, sender_device_id: ctx.engine.deviceId });
          await ctx.call("PATCH", `/api/meetings/${meeting.id}`, { message_id: sent.message.id });
        } catch (err) {
          ctx.notify(`The meeting is scheduled, but its message could not be sent: ${(err as Error).message}`);
        }
        strip.added(meeting, t);
        d.close();
        ctx.notify(`Meeting scheduled for ${formatWhen(from)}.`);
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (code === "INVALID_TIME_ZONE") zone.setError((err as Error).message);
        else if (code === "INVALID_TIME") starts.setError((err as Error).message);
        else error.set((err as Error).message);
      } finally {
        submit.disabled = false;
      }
    })();
  });
}
