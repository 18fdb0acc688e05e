// Polls in a conversation (docs/messages.md "Bookmarks, polls and scheduled messages"). The
// question and option texts are encrypted like a message (same engine, the channel's scheme) and
// wrapped with the sender's device id: {v, d: device id, c: ciphertext}, base64url. The server
// knows only the option count and counts votes by index. Polls are not messages, so they live in
// a strip above the message list (newest first); poll:updated brings live counts.
import type { ExtrasContext } from "./extras-types.ts";
import { button, field, formatWhen, formError, h, openDialog, toLocalInput, unwrapJson, wrapJson } from "./ui-kit.ts";

type Tally = { option_index: number; count: number };
export interface Poll {
  id: string;
  channel_id: string;
  creator_id: string | null;
  /** From the server's data; null once the account is deleted. */
  creator_name?: string | null;
  question_ciphertext: string;
  option_count: number;
  multi_select: boolean;
  anonymous: boolean;
  expires_at: string | null;
  closed: boolean;
  created_at: string;
  tallies: Tally[];
  my_votes: number[];
}
type Content = { q: string; o: string[] };

/**
 * A decrypted poll payload as this app would write it, or why it is not shown: the sender's client
 * could be a modified one (issue 10 §6), so the question, the options and their count are checked
 * against the form's limits and the option count the server counts votes for.
 */
export function readPollContent(text: string, optionCount: number, limits: ExtrasContext["limits"]): Content | string {
  const { checkReceivedText, MAX_POLL_OPTION_CHARS, MAX_POLL_OPTIONS, MAX_POLL_QUESTION_CHARS, MIN_POLL_OPTIONS } = limits;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "This poll could not be read.";
  }
  const { q, o } = (parsed ?? {}) as { q?: unknown; o?: unknown };
  if (typeof q !== "string" || !Array.isArray(o) || !o.every((x): x is string => typeof x === "string")) return "This poll could not be read.";
  if (o.length < MIN_POLL_OPTIONS || o.length > MAX_POLL_OPTIONS || o.length !== optionCount) return "This poll's options do not match its vote count — not shown.";
  for (const checked of [checkReceivedText("Poll question", q, MAX_POLL_QUESTION_CHARS), ...o.map((x) => checkReceivedText("Poll option", x, MAX_POLL_OPTION_CHARS))]) {
    if (checked.status === "failed") return checked.reason;
  }
  return { q, o };
}

/**
 * On a phone the strip starts collapsed to its one-line summary ("Polls · 2 open"): open, it
 * took about 200 of 740 px above the messages. Opening it, or creating a poll, shows the list.
 */
const onPhone = () => matchMedia("(max-width: 767px)").matches;

export class PollStrip {
  private readonly polls = new Map<string, Poll>();
  private readonly content = new Map<string, Content | string>();
  private readonly section = h("section", "polls");
  private readonly details = h("details", "polls__details");
  private readonly summary = h("summary", "polls__summary");
  private readonly list = h("ul", "polls__list");
  private readonly older = button("Show older polls", "btn btn--ghost btn--sm polls__older");
  private readonly olderError = formError();
  /** The oldest poll id of the last page fetched (the `before` cursor); null once there are no more. */
  private cursor: string | null = null;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: ExtrasContext) {
    this.section.setAttribute("aria-label", "Polls");
    this.section.hidden = true;
    this.older.hidden = true;
    this.older.addEventListener("click", () => void this.loadOlder());
    this.details.append(this.summary, this.list, this.older, this.olderError.el);
    this.section.append(this.details);
    ctx.scroller.before(this.section);
  }

  private async fetchPage(): Promise<Poll[]> {
    const before = this.cursor ? `&before=${this.cursor}` : "";
    const page = await this.ctx.call<{ polls: Poll[]; has_more: boolean }>("GET", `/api/channels/${this.ctx.channelId}/polls?limit=20${before}`);
    for (const p of page.polls) this.polls.set(p.id, p);
    this.cursor = page.has_more && page.polls.length ? page.polls[page.polls.length - 1]!.id : null;
    this.older.hidden = this.cursor === null;
    return page.polls;
  }

  async load(): Promise<void> {
    const polls = await this.fetchPage();
    this.details.open = !onPhone() && polls.some((p) => !this.isClosed(p));
    await this.render();
  }

  /** "Show older polls": the next page below the oldest fetched; focus moves to the first new poll. */
  private async loadOlder(): Promise<void> {
    this.olderError.set(null);
    this.older.disabled = true;
    try {
      const polls = await this.fetchPage();
      await this.render();
      const first = polls[0] && this.list.querySelector<HTMLElement>(`[data-poll-id="${CSS.escape(polls[0].id)}"]`);
      if (first) {
        first.tabIndex = -1;
        first.focus();
      }
    } catch (err) {
      this.olderError.set((err as Error).message);
    } finally {
      this.older.disabled = false;
    }
  }

  dispose(): void {
    clearTimeout(this.expiryTimer);
    this.section.remove();
  }

  private isClosed(p: Poll): boolean {
    return p.closed || (p.expires_at !== null && Date.parse(p.expires_at) <= Date.now());
  }

  async onUpdated(f: Record<string, unknown>): Promise<void> {
    const id = String(f.pollId);
    if (f.channelId !== this.ctx.channelId) return;
    const known = this.polls.get(id);
    if (!known) {
      const { poll } = await this.ctx.call<{ poll: Poll }>("GET", `/api/polls/${id}`);
      this.polls.set(id, poll);
      if (!onPhone()) this.details.open = true;
    } else {
      known.closed = Boolean(f.closed);
      if (Array.isArray(f.tallies)) known.tallies = f.tallies as Tally[];
    }
    await this.render();
  }

  private async decryptPoll(p: Poll): Promise<Content | string> {
    const cached = this.content.get(p.id);
    if (typeof cached === "object") return cached;
    let out: Content | string;
    try {
      const wire = unwrapJson<{ v: number; d: string; c: string }>(p.question_ciphertext);
      const message = this.ctx.normalise({
        id: `poll:${p.id}`, channel_id: p.channel_id, seq: 0, sender_id: p.creator_id ?? "", sender_name: p.creator_name ?? null, sender_device_id: wire.d,
        client_id: "", scheme: this.ctx.scheme, ciphertext: wire.c, created_at: p.created_at,
      })!;
      const outcome = await this.ctx.engine.decrypt(message, this.ctx.limits.MAX_POLL_PAYLOAD_CHARS);
      out = outcome.status === "ok" ? readPollContent(outcome.text, p.option_count, this.ctx.limits) : outcome.reason;
    } catch {
      out = "This poll could not be decrypted.";
    }
    this.content.set(p.id, out);
    return out;
  }

  /** Keys arrived: polls that were waiting may open now. */
  async retry(): Promise<void> {
    for (const [id, c] of this.content) if (typeof c === "string") this.content.delete(id);
    await this.render();
  }

  private async render(): Promise<void> {
    const polls = [...this.polls.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    this.section.hidden = polls.length === 0;
    const open = polls.filter((p) => !this.isClosed(p)).length;
    this.summary.textContent = `Polls · ${open} open`;
    const items: HTMLElement[] = [];
    for (const p of polls) items.push(await this.renderPoll(p));
    // Keep focus on a control that is re-rendered (a vote button, say).
    const focusedId = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    this.list.replaceChildren(...items);
    if (focusedId) this.list.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusedId)}"]`)?.focus();
    clearTimeout(this.expiryTimer);
    const next = polls.filter((p) => !this.isClosed(p) && p.expires_at).map((p) => Date.parse(p.expires_at!) - Date.now());
    if (next.length) this.expiryTimer = setTimeout(() => void this.render(), Math.min(...next) + 500);
  }

  private async renderPoll(p: Poll): Promise<HTMLElement> {
    const li = h("li", "poll");
    li.dataset.pollId = p.id;
    const content = await this.decryptPoll(p);
    const closed = this.isClosed(p);
    if (typeof content === "string") {
      li.append(h("p", "poll__notice", content));
      return li;
    }
    const total = p.tallies.reduce((n, t) => n + t.count, 0);
    const qid = `poll-q-${p.id}`;
    const question = h("p", "poll__question", content.q);
    question.id = qid;
    const meta: string[] = [p.multi_select ? "Choose any" : "Choose one", p.anonymous ? "anonymous" : "votes visible to members"];
    if (p.closed) meta.push("closed");
    else if (p.expires_at) meta.push(closed ? `ended ${formatWhen(p.expires_at)}` : `ends ${formatWhen(p.expires_at)}`);
    meta.push(`by ${p.creator_name ?? (p.creator_id ? "someone" : "a deleted user")}`);
    const form = h("form", "poll__form");
    const fieldset = h("fieldset", "poll__options");
    fieldset.setAttribute("aria-labelledby", qid);
    fieldset.disabled = closed;
    content.o.forEach((text, i) => {
      const count = p.tallies.find((t) => t.option_index === i)?.count ?? 0;
      const label = h("label", "poll__option");
      const input = h("input");
      input.type = p.multi_select ? "checkbox" : "radio";
      input.name = `poll-${p.id}`;
      input.value = String(i);
      input.checked = p.my_votes.includes(i);
      const name = h("span", "poll__text", text);
      const c = h("span", "poll__count", `${count} vote${count === 1 ? "" : "s"}`);
      c.dataset.pollCount = String(i);
      const bar = h("span", "poll__bar");
      bar.setAttribute("aria-hidden", "true");
      const fill = h("span", "poll__fill");
      fill.style.width = `${total ? Math.round((count / total) * 100) : 0}%`;
      bar.append(fill);
      label.append(input, name, c, bar);
      fieldset.append(label);
    });
    const error = formError();
    const actions = h("div", "poll__actions");
    if (!closed) {
      const vote = button(p.my_votes.length ? "Change vote" : "Vote", "btn btn--primary btn--sm", "submit");
      vote.dataset.focusKey = `vote-${p.id}`;
      actions.append(vote);
      if (p.my_votes.length) {
        const retract = button("Retract vote", "btn btn--ghost btn--sm");
        retract.dataset.focusKey = `retract-${p.id}`;
        retract.addEventListener("click", () => void this.act(p, "DELETE", `/api/polls/${p.id}/votes`, undefined, error.set));
        actions.append(retract);
      }
      if (p.creator_id === this.ctx.selfId || this.ctx.moderate) {
        const close = button("Close poll", "btn btn--ghost btn--sm");
        close.dataset.focusKey = `close-${p.id}`;
        close.addEventListener("click", () => void this.act(p, "POST", `/api/polls/${p.id}/close`, undefined, error.set));
        actions.append(close);
      }
    }
    actions.append(h("span", "poll__total", closed ? `Final: ${total} vote${total === 1 ? "" : "s"}` : `${total} vote${total === 1 ? "" : "s"}`));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const chosen = [...fieldset.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => Number(i.value));
      if (chosen.length === 0) return error.set("Choose an option first.");
      void this.act(p, "POST", `/api/polls/${p.id}/votes`, { option_indexes: chosen }, error.set);
    });
    form.append(fieldset, actions, error.el);
    li.classList.toggle("poll--closed", closed);
    li.append(question, h("p", "poll__meta", meta.join(" · ")), form);
    return li;
  }

  private async act(p: Poll, method: string, path: string, body: unknown, showError: (m: string | null) => void): Promise<void> {
    try {
      const { poll } = await this.ctx.call<{ poll: Poll }>(method, path, body);
      this.polls.set(poll.id, poll);
      await this.render();
    } catch (e) {
      showError((e as Error).message);
    }
  }

  /** The "Poll" composer action: question, 2–10 options, multi-select, anonymous, expiry. */
  openCreateDialog(opener: HTMLElement): void {
    const { MIN_POLL_OPTIONS: MIN_OPTIONS, MAX_POLL_OPTIONS: MAX_OPTIONS, MAX_POLL_QUESTION_CHARS, MAX_POLL_OPTION_CHARS, MAX_POLL_PAYLOAD_CHARS } = this.ctx.limits;
    const d = openDialog("Create a poll", opener, { form: true });
    const form = d.form!;
    const question = field("Question", Object.assign(h("input", "input"), { maxLength: MAX_POLL_QUESTION_CHARS, required: true }));
    const optionsBox = h("fieldset", "poll-dialog__options");
    optionsBox.append(h("legend", "field__label", `Options (${MIN_OPTIONS}–${MAX_OPTIONS})`));
    const optionsError = formError();
    const list = h("ol", "poll-dialog__list");
    const add = button("Add option", "btn btn--ghost btn--sm");
    const renumber = () => {
      const rows = [...list.children] as HTMLElement[];
      rows.forEach((row, i) => {
        row.querySelector("input")!.setAttribute("aria-label", `Option ${i + 1}`);
        const remove = row.querySelector<HTMLButtonElement>("button")!;
        remove.setAttribute("aria-label", `Remove option ${i + 1}`);
        remove.hidden = rows.length <= MIN_OPTIONS;
      });
      add.disabled = rows.length >= MAX_OPTIONS;
    };
    const addOption = (focus: boolean) => {
      const row = h("li", "poll-dialog__row");
      const input = Object.assign(h("input", "input"), { maxLength: MAX_POLL_OPTION_CHARS });
      const remove = button("Remove", "btn btn--ghost btn--sm");
      remove.addEventListener("click", () => {
        const next = (row.nextElementSibling ?? row.previousElementSibling)?.querySelector("input");
        row.remove();
        renumber();
        next?.focus();
      });
      row.append(input, remove);
      list.append(row);
      renumber();
      if (focus) input.focus();
    };
    add.addEventListener("click", () => addOption(true));
    list.addEventListener("input", () => optionsError.set(null));
    addOption(false);
    addOption(false);
    optionsBox.append(list, add, optionsError.el);
    const multi = Object.assign(h("input"), { type: "checkbox" });
    const anon = Object.assign(h("input"), { type: "checkbox" });
    const check = (input: HTMLInputElement, text: string) => {
      const label = h("label", "checkbox");
      label.append(input, h("span", undefined, text));
      return label;
    };
    const expiry = field("Ends", Object.assign(h("input", "input"), { type: "datetime-local", min: toLocalInput(new Date(Date.now() + 60_000)) }), "Optional. Leave empty to keep it open until you close it.");
    const error = formError();
    const create = button("Create poll", "btn btn--primary", "submit");
    const cancel = button("Cancel", "btn btn--secondary");
    cancel.addEventListener("click", d.close);
    d.body.append(question.wrap, optionsBox, check(multi, "Allow choosing several options"), check(anon, "Anonymous (hide who voted for what)"), expiry.wrap,
      h("p", "field__hint", "The question and options are end-to-end encrypted; the server only counts votes per option number."), error.el);
    d.footer.append(cancel, create);
    question.control.focus();
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void (async () => {
        question.setError(null); expiry.setError(null); optionsError.set(null); error.set(null);
        const q = question.control.value.trim();
        const options = [...list.querySelectorAll("input")].map((i) => i.value.trim());
        let bad = false;
        if (!q) { question.setError("Enter a question."); bad = true; }
        if (options.filter(Boolean).length < MIN_OPTIONS || options.some((o) => !o)) { optionsError.set("Fill in every option (at least 2), or remove the empty ones."); bad = true; }
        let expiresAt: string | undefined;
        if (expiry.control.value) {
          const when = new Date(expiry.control.value);
          if (Number.isNaN(when.getTime()) || when.getTime() <= Date.now()) { expiry.setError("Pick a time in the future."); bad = true; }
          else expiresAt = when.toISOString();
        }
        if (bad) return form.querySelector<HTMLElement>("[aria-invalid='true'], .dialog__error:not([hidden])")?.focus();
        create.disabled = true;
        try {
          const { engine } = this.ctx;
          const { ciphertext, remember } = await this.ctx.encryptForReaders(JSON.stringify({ q, o: options }), MAX_POLL_PAYLOAD_CHARS);
          const { poll } = await this.ctx.call<{ poll: Poll }>("POST", `/api/channels/${this.ctx.channelId}/polls`, {
            client_id: crypto.randomUUID(),
            question_ciphertext: wrapJson({ v: 1, d: engine.deviceId, c: ciphertext }),
            option_count: options.length,
            multi_select: multi.checked,
            anonymous: anon.checked,
            ...(expiresAt ? { expires_at: expiresAt } : {}),
          });
          await remember(`poll:${poll.id}`);
          this.content.set(poll.id, { q, o: options });
          this.polls.set(poll.id, poll);
          this.details.open = true;
          d.close();
          await this.render();
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "INVALID_EXPIRES_AT") expiry.setError((err as Error).message);
          else error.set((err as Error).message);
        } finally {
          create.disabled = false;
        }
      })();
    });
  }
}
