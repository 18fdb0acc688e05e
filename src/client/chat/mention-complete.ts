// Mention autocomplete in the composer (issue 13 §3), a lazy chunk of chat.js. Typing "@" opens a
// list of the conversation's readers (the names the client already has: viewers.ts), filtered as
// the user types; Up/Down move, Enter or Tab inserts "@Name ", Escape closes. @everyone and @here
// are offered only when the page says the user may use them (data-chat-mention-all: the
// mention_everyone permission, or a group DM).
//
// ARIA: the combobox pattern of the ARIA Authoring Practices adapted to a multiline textbox —
// the textarea keeps its textbox role (a textarea may not take role=combobox, nor aria-expanded)
// and carries aria-autocomplete="list", aria-controls and aria-activedescendant; the list is a
// role=listbox of role=option items with aria-selected; a polite status says how many match.

const MAX_OPTIONS = 8;
const TOKEN = /(?:^|\s)@([^\s@]{0,32})$/;
let seq = 0;

type Option = { label: string; hint: string };

export function attachMentionComplete(form: HTMLFormElement, input: HTMLTextAreaElement, names: Map<string, string>, selfId: string, mayMentionAll: boolean): () => void {
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
    const text = `@${o.label} `;
    input.setRangeText(text, start, end, "end");
    close();
    input.dispatchEvent(new Event("input", { bubbles: true })); // the draft and typing signal follow
    input.focus();
  };

  const update = () => {
    const caret = input.selectionEnd;
    if (input.selectionStart !== caret) return close();
    const m = TOKEN.exec(input.value.slice(0, caret));
    if (!m) return close();
    const query = m[1]!.toLowerCase();
    start = caret - m[1]!.length - 1;
    const people = [...names].filter(([uid]) => uid !== selfId).map(([, name]) => ({ label: name, hint: "" }));
    const all = mayMentionAll ? [{ label: "everyone", hint: "everyone who can read this" }, { label: "here", hint: "everyone online now" }] : [];
    const matches = [...people, ...all]
      .filter((o) => o.label.toLowerCase().includes(query))
      .sort((a, b) => Number(!a.label.toLowerCase().startsWith(query)) - Number(!b.label.toLowerCase().startsWith(query)) || a.label.localeCompare(b.label))
      .slice(0, MAX_OPTIONS);
    if (matches.length === 0) return close();
    options = matches;
    active = 0;
    list.replaceChildren(
      ...matches.map((o, i) => {
        const li = document.createElement("li");
        li.id = `${id}-${i}`;
        li.className = "mention-list__option";
        li.setAttribute("role", "option");
        li.textContent = `@${o.label}`;
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
    status.textContent = `${matches.length} ${matches.length === 1 ? "person" : "people"} to mention. Up and down to choose, Enter to insert.`;
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
  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("blur", onBlur);
  return () => {
    form.removeEventListener("keydown", onKey, true);
    input.removeEventListener("input", update);
    input.removeEventListener("click", update);
    input.removeEventListener("blur", onBlur);
    list.remove();
    status.remove();
  };
}
