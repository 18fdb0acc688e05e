// Mention autocomplete in the composer (issue 13 §3), a lazy chunk of chat.js. Typing "@" opens a
// list of the conversation's readers (the names the client already has: viewers.ts), filtered as
// the user types; Up/Down move, Enter or Tab inserts "@Name ", Escape closes. @everyone and @here
// are offered only when the page says the user may use them (data-chat-mention-all: the
// mention_everyone permission, or a group DM).
//
// Emoji (issue 17 §4): typing ":" and two letters lists the community's custom emoji (inserted as
// `:shortcode:`, rendered from the set by custom-emoji.ts) and the standard emoji whose names
// match (inserted as the character), with the same keys.
//
// ARIA: the combobox pattern of the ARIA Authoring Practices adapted to a multiline textbox —
// the textarea keeps its textbox role (a textarea may not take role=combobox, nor aria-expanded)
// and carries aria-autocomplete="list", aria-controls and aria-activedescendant; the list is a
// role=listbox of role=option items with aria-selected; a polite status says how many match.

const MAX_OPTIONS = 8;
const TOKEN = /(?:^|\s)@([^\s@]{0,32})$/;
const EMOJI_TOKEN = /(?:^|\s):([A-Za-z0-9_]{2,32})$/;
let seq = 0;

/** text: what is inserted; img: a custom emoji's picture shown in the list. */
type Option = { label: string; hint: string; text: string; img?: string };

/**
 * The emoji sources: the custom sets (custom-emoji.ts) and the standard list (the extras chunk).
 * chat.js passes the loader: an import() in this chunk would make the bundler move its runtime
 * into a chunk of its own that chat.js then imports statically.
 */
export type EmojiSources = () => Promise<[{ customSet(community: string): Promise<Map<string, string>> }, { filterEmoji(query: string): { emoji: string; name: string }[] }]>;

/** Custom emoji of the page's community whose shortcode contains `query`, then standard ones. */
async function emojiOptions(query: string, sources: EmojiSources): Promise<Option[]> {
  const q = query.toLowerCase();
  const community = document.querySelector<HTMLElement>("[data-chat-community]")?.dataset.chatCommunity;
  const [{ customSet }, { filterEmoji }] = await sources();
  const custom = community ? [...(await customSet(community))] : [];
  const mine = custom
    .filter(([code]) => code.toLowerCase().includes(q))
    .sort(([a], [b]) => Number(!a.toLowerCase().startsWith(q)) - Number(!b.toLowerCase().startsWith(q)) || a.localeCompare(b))
    .map(([code, url]) => ({ label: `:${code}:`, hint: "custom", text: `:${code}:`, img: url }));
  const standard = filterEmoji(q.replace(/_/g, " ")).map((e) => ({ label: `${e.emoji} :${e.name.split(" ").join("_")}:`, hint: "", text: e.emoji }));
  return [...mine, ...standard].slice(0, MAX_OPTIONS);
}

export function attachMentionComplete(form: HTMLFormElement, input: HTMLTextAreaElement, names: Map<string, string>, selfId: string, mayMentionAll: boolean, sources: EmojiSources): () => void {
  const id = `mention-list-${++seq}`;
  const list = document.createElement("ul");
  list.id = id;
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "People to mention");
  list.hidden = true;
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  form.classList.add("composer--complete");
  form.append(list, status);
  input.setAttribute("aria-autocomplete", "list");

  let options: Option[] = [];
  let active = 0;
  let start = -1; // where the "@" of the token is

  const close = () => {
    if (list.hidden) return;
    list.hidden = true;
    list.replaceChildren();
    options = [];
    input.removeAttribute("aria-controls");
    input.removeAttribute("aria-activedescendant");
    status.textContent = "";
  };

  const highlight = () => {
    list.querySelectorAll("[role=option]").forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", `${id}-${active}`);
    list.children[active]?.scrollIntoView({ block: "nearest" });
  };

  const choose = (i: number) => {
    const o = options[i];
    if (!o || start < 0) return close();
    const end = input.selectionEnd;
    const text = `${o.text} `;
    input.setRangeText(text, start, end, "end");
    close();
    input.dispatchEvent(new Event("input", { bubbles: true })); // the draft and typing signal follow
    input.focus();
  };

  let asked = 0;
  const update = async () => {
    const caret = input.selectionEnd;
    if (input.selectionStart !== caret) return close();
    const before = input.value.slice(0, caret);
    const m = TOKEN.exec(before);
    const e = m ? null : EMOJI_TOKEN.exec(before);
    if (!m && !e) return close();
    const token = (m ?? e)![1]!;
    const query = token.toLowerCase();
    const ask = ++asked;
    let matches: Option[];
    if (m) {
      const people = [...names].filter(([uid]) => uid !== selfId).map(([, name]) => ({ label: `@${name}`, hint: "", text: `@${name}` }));
      const all = mayMentionAll ? [{ label: "@everyone", hint: "everyone who can read this", text: "@everyone" }, { label: "@here", hint: "everyone online now", text: "@here" }] : [];
      matches = [...people, ...all]
        .filter((o) => o.label.slice(1).toLowerCase().includes(query))
        .sort((a, b) => Number(!a.label.slice(1).toLowerCase().startsWith(query)) - Number(!b.label.slice(1).toLowerCase().startsWith(query)) || a.label.localeCompare(b.label))
        .slice(0, MAX_OPTIONS);
    } else matches = await emojiOptions(query, sources).catch(() => []);
    // A later keystroke asked again meanwhile, or the caret moved: this answer is stale.
    if (ask !== asked || input.selectionEnd !== caret) return;
    start = caret - token.length - 1;
    list.setAttribute("aria-label", m ? "People to mention" : "Emoji");
    if (matches.length === 0) return close();
    options = matches;
    active = 0;
    list.replaceChildren(
      ...matches.map((o, i) => {
        const li = document.createElement("li");
        li.id = `${id}-${i}`;
        li.className = "mention-list__option";
        li.setAttribute("role", "option");
        if (o.img) {
          const img = document.createElement("img");
          img.className = "custom-emoji";
          img.src = o.img;
          img.alt = "";
          li.append(img, " ");
        }
        li.append(o.label);
        if (o.hint) {
          const hint = document.createElement("span");
          hint.className = "mention-list__hint";
          hint.textContent = ` ${o.hint}`;
          li.append(hint);
        }
        // mousedown, not click: the textarea keeps focus and its caret.
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(i);
        });
        return li;
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-controls", id);
    status.textContent = `${matches.length} ${m ? (matches.length === 1 ? "person" : "people") + " to mention" : "emoji"}. Up and down to choose, Enter to insert.`;
    highlight();
  };

  // Capture on the form: runs before the composer's own keydown (Enter sends, Escape cancels a reply).
  const onKey = (event: KeyboardEvent) => {
    if (event.target !== input || list.hidden || event.isComposing) return;
    const n = options.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      highlight();
    } else if (event.key === "Enter" || event.key === "Tab") choose(active);
    else if (event.key === "Escape") close();
    else return;
    event.preventDefault();
    event.stopImmediatePropagation();
  };
  const onBlur = () => setTimeout(close, 0);
  form.addEventListener("keydown", onKey, true);
  const onInput = () => void update();
  input.addEventListener("input", onInput);
  input.addEventListener("click", onInput);
  input.addEventListener("blur", onBlur);
  return () => {
    form.removeEventListener("keydown", onKey, true);
    input.removeEventListener("input", onInput);
    input.removeEventListener("click", onInput);
    input.removeEventListener("blur", onBlur);
    list.remove();
    status.remove();
  };
}
