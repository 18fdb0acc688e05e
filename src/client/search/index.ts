// chat-search.js (docs/search.md): the local encrypted search index of this browser, its
// background backfill and the search panel. chat.js imports it once a chat page is up
// (src/client/chat/search-hook.ts) and hands it the engine's quiet decryption and the page API.
// Nothing typed here leaves the browser: a query is parsed, keyed and matched in this page; the
// only request a search leads to is opening a result (a normal history read around it).

import type { ChatMessage } from "../chat/types.ts";
import type { SidePanel } from "../chat/side-panel.ts";
import type { SearchHost, SearchModule } from "./types.ts";
import { type Doc, LocalIndex } from "./local-index.ts";
import { Backfill, docOf, type State } from "./backfill.ts";
import { isEmpty, normalise, parseQuery, tokenise } from "./query.ts";
import { Vault } from "./vault.ts";

let host: SearchHost | null = null;
let ready: Promise<{ index: LocalIndex; backfill: Backfill; vault: Vault }> | null = null;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let activityTimer: ReturnType<typeof setTimeout> | undefined;
const nf = new Intl.NumberFormat();

function boot(h: SearchHost) {
  ready ??= (async () => {
    const vault = await Vault.open(`hearth-search-${h.selfId}`);
    const index = new LocalIndex(vault);
    await index.load();
    const state: State = (await vault.get<State>("state")) ?? { v: 1, channels: {} };
    const backfill = new Backfill(() => host!, index, state, () => vault.put("state", state));
    // How many entries the index holds (tests and curious readers; a count, never a word).
    backfill.onIndexed = () => (document.documentElement.dataset.searchIndexed = String(index.size));
    const go = () => void backfill.run().catch(() => setTimeout(go, 30_000));
    setTimeout(go, 1_000);
    setInterval(go, 5 * 60_000);
    document.documentElement.dataset.searchReady = "1";
    return { index, backfill, vault };
  })();
  return ready;
}

function start(h: SearchHost): void {
  host = h;
  void boot(h).then(() => mountButton(), () => {});
}

function note(message: ChatMessage, text: string, files?: unknown[]): void {
  if (!host || message.channel_id === "") return;
  void ready?.then(async ({ index, backfill }) => {
    if (!backfill.state.channels[message.channel_id] && !backfill.running) return void backfill.run().catch(() => {});
    await index.add([docOf(message, text, files)]);
    clearTimeout(flushTimer);
    flushTimer = setTimeout(() => void index.flush(), 1_000);
  });
}

function onFrame(frame: { type: string }): void {
  const f = frame as Record<string, unknown>;
  void ready?.then(async ({ index, backfill }) => {
    if (frame.type === "message:deleted" && typeof f.messageId === "string") {
      if (index.remove(f.messageId)) await index.flush();
    } else if (frame.type === "subscription:revoked" && f.reason !== "TIMED_OUT" && Array.isArray(f.channelIds)) {
      await backfill.forget(f.channelIds.map(String));
    } else if (frame.type === "channel:activity" && typeof f.channelId === "string") {
      // New messages elsewhere (or a channel this index has not met): the backfill follows them.
      const known = backfill.state.channels[f.channelId];
      if (known) known.last = Math.max(known.last, Number(f.seq) || 0);
      clearTimeout(activityTimer);
      activityTimer = setTimeout(() => void backfill.run().catch(() => {}), 2_000);
    } else if (/^member:(kicked|banned|left)$/.test(frame.type) || frame.type === "community:deleted") {
      const community = String(f.communityId ?? f.community_id ?? "");
      const mine = f.userId ?? f.user_id;
      if (community && (mine === undefined || mine === host?.selfId)) await backfill.forget(Object.entries(backfill.state.channels).filter(([, s]) => s.community === community).map(([id]) => id));
    }
  });
}

// ---- the panel ------------------------------------------------------------------------------

let panel: SidePanel | null = null;
let scope: "all" | "here" = "all";

function mountButton(): void {
  const header = document.querySelector<HTMLElement>(".pane-header");
  if (!header || header.querySelector("[data-search-open]")) return;
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn btn--ghost btn--sm pane-header__search";
  b.dataset.searchOpen = "";
  b.textContent = "Search";
  b.setAttribute("aria-haspopup", "dialog");
  b.setAttribute("aria-keyshortcuts", "Control+Shift+F Meta+Shift+F");
  b.title = "Search messages (Ctrl+Shift+F)";
  b.addEventListener("click", () => void openPanel(b));
  header.insertBefore(b, header.querySelector("[data-pins-toggle], .pane-header__members-toggle"));
}

document.addEventListener("keydown", (e) => {
  if (!host || !(e.ctrlKey || e.metaKey) || !e.shiftKey || e.key.toLowerCase() !== "f") return;
  e.preventDefault();
  void openPanel(document.querySelector<HTMLElement>("[data-search-open]"));
});

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function openPanel(opener: HTMLElement | null): Promise<void> {
  if (!host) return;
  if (panel && !panel.closed) return void panel.root.querySelector<HTMLInputElement>("input[type=search]")?.focus();
  const p = (panel = host.openPanel("search", "Search messages", opener, () => (panel = null)));
  const form = el("form", "search-form");
  form.setAttribute("role", "search");
  const label = el("label", "search-form__label", "Search");
  const input = el("input", "input search-form__input");
  input.type = "search";
  input.id = "search-query";
  input.name = "q";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = "words, from:name, in:#channel, before:/after:YYYY-MM-DD, has:file";
  label.htmlFor = input.id;
  const hint = el("p", "search-form__hint", "Only this browser's index is searched; nothing you type is sent.");
  hint.id = "search-hint";
  input.setAttribute("aria-describedby", hint.id);
  const scopeBox = el("fieldset", "search-form__scope");
  scopeBox.append(el("legend", "visually-hidden", "Where"));
  for (const [value, text] of [["all", "Everything I can read"], ["here", "This conversation"]] as const) {
    const l = el("label", "search-form__radio");
    const r = el("input", "");
    r.type = "radio";
    r.name = "scope";
    r.value = value;
    r.checked = scope === value;
    r.addEventListener("change", () => ((scope = value), void run()));
    l.append(r, ` ${text}`);
    scopeBox.append(l);
  }
  const submit = el("button", "btn btn--primary btn--sm", "Search");
  submit.type = "submit";
  form.append(label, input, submit, scopeBox, hint);
  const coverage = el("p", "search-coverage");
  coverage.setAttribute("aria-live", "polite");
  coverage.dataset.searchCoverage = "";
  const error = el("p", "search-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const summary = el("p", "search-summary");
  summary.setAttribute("role", "status");
  const list = el("ol", "search-results");
  list.setAttribute("aria-label", "Results");
  p.body.append(form, coverage, error, summary, list);
  input.focus();

  const { index, backfill } = await boot(host);
  const showCoverage = () => {
    const counts = index.countByChannel();
    const chans = Object.entries(backfill.state.channels);
    const here = host?.channelId() ?? "";
    const pick = scope === "here" ? chans.filter(([id]) => id === here) : chans;
    const done = pick.reduce((n, [, s]) => n + Math.min(s.hi, s.last), 0);
    const total = pick.reduce((n, [, s]) => n + s.last, 0);
    const where = scope === "here" ? (backfill.state.channels[here]?.name ?? "this conversation") : `${nf.format(pick.length)} conversations`;
    const indexed = pick.reduce((n, [id]) => n + (counts.get(id) ?? 0), 0);
    coverage.textContent = `Searched ${nf.format(done)} of ${nf.format(total)} messages in ${where}${done < total ? " (still indexing older ones)" : ""}; ${nf.format(indexed)} readable on this device.`;
  };
  backfill.onProgress = () => !p.closed && showCoverage();
  showCoverage();

  let timer: ReturnType<typeof setTimeout> | undefined;
  async function run(): Promise<void> {
    showCoverage();
    error.hidden = true;
    list.replaceChildren();
    summary.textContent = "";
    if (!input.value.trim()) return;
    let q;
    try {
      q = parseQuery(input.value);
    } catch (e) {
      error.textContent = (e as Error).message;
      error.hidden = false;
      return;
    }
    if (isEmpty(q)) return;
    let channels: Set<string> | null = null;
    if (scope === "here") channels = new Set([host!.channelId()]);
    if (q.in.length) {
      const named = Object.entries(backfill.state.channels).filter(([, s]) => q.in.some((n) => normalise(s.name.replace(/^#/, "")) === n)).map(([id]) => id);
      channels = new Set(channels ? named.filter((id) => channels!.has(id)) : named);
    }
    const { hits, total } = await index.search(q, { channels });
    summary.textContent = total ? `${nf.format(total)} result${total === 1 ? "" : "s"}${total > hits.length ? `, newest ${hits.length} shown` : ""}.` : "No results.";
    for (const d of hits) list.append(resultItem(d, q.terms, backfill.state));
  }
  form.addEventListener("submit", (e) => (e.preventDefault(), void run()));
  input.addEventListener("input", () => (clearTimeout(timer), (timer = setTimeout(() => void run(), 200))));
  list.addEventListener("keydown", (e) => {
    const items = [...list.querySelectorAll<HTMLElement>(".search-result__open")];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (at < 0 || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, at + (e.key === "ArrowDown" ? 1 : -1)))]?.focus();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") (e.preventDefault(), list.querySelector<HTMLElement>(".search-result__open")?.focus());
  });
}

/** A result: channel, author, time and the text with the matched words marked (DOM text, no HTML). */
function resultItem(d: Doc, terms: string[], state: State): HTMLLIElement {
  const li = el("li", "search-result");
  const chan = state.channels[d.c];
  const button = el("button", "search-result__open");
  button.type = "button";
  button.dataset.messageId = d.i;
  const meta = el("span", "search-result__meta");
  meta.append(el("span", "search-result__channel", chan?.name ?? ""), " · ", el("span", "search-result__author", d.n || "Unknown"), " · ");
  const time = el("time", "search-result__time", new Date(d.t).toLocaleString());
  time.dateTime = new Date(d.t).toISOString();
  meta.append(time);
  const text = el("span", "search-result__text");
  const words = new Set(terms);
  const shown = d.x.length > 300 ? `${d.x.slice(0, 300)}…` : d.x;
  for (const part of shown.split(/([\p{L}\p{N}]+)/u)) {
    if (part && words.has(tokenise(part)[0] ?? "")) text.append(el("mark", "", part));
    else text.append(part);
  }
  button.append(meta, text);
  button.addEventListener("click", () => {
    panel?.close(false);
    if (chan) host?.show(d.c, d.i, chan.url);
  });
  li.append(button);
  return li;
}

export const searchModule: SearchModule = { start, note, onFrame };
export { start, note, onFrame };
