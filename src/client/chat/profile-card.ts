// The profile card: a person's name, pronouns, status and "about me", opened by clicking (or
// Enter/Space on) a name or avatar that carries data-profile-user (message authors, the member
// list). A lazily loaded chunk of chat.js, self-contained on purpose: it imports nothing, so no
// module is shared with the entry bundle or the extras chunk.
//
// Actions (issue 17 §2): "Message" opens (or creates) the one-to-one conversation; "Verify"
// opens the safety-number panel where encryption runs on the page (trust-ui.ts listens for
// [data-verify-user] clicks), and says where to find it elsewhere. In a community, the card names
// the person's nickname there, and the user's own card edits their nickname
// (PUT /api/communities/{id}/nickname).
//
// Extension point: the card has an empty <div data-profile-extra data-user-id="…"> below the
// profile, and the document receives a "profile-card:open" CustomEvent with
// { userId, extra, dialog } once the card is shown. Another module (a device-verification
// panel, say) fills `extra` from that event; the card itself never does. "profile-card:close"
// follows when it closes.

export type ProfileCardEventDetail = { userId: string; extra: HTMLElement; dialog: HTMLDialogElement };

type Profile = { id: string; username: string; display_name: string; pronouns: string | null; custom_status: string | null; bio: string | null; avatar_url?: string | null };

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

let seq = 0;

/** The community of the page (`/c/{id}/…`), where nicknames apply. */
function communityHere(): string {
  return /^\/c\/([0-9a-f-]{36})/.exec(location.pathname)?.[1] ?? "";
}

async function send(method: string, url: string, body: unknown): Promise<{ ok: boolean; data: Record<string, unknown> }> {
  try {
    const res = await fetch(url, { method, credentials: "same-origin", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) });
    const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    return { ok: res.ok, data };
  } catch {
    return { ok: false, data: { error: { message: "The server could not be reached. Check your connection and try again." } } };
  }
}

function errorText(data: Record<string, unknown>): string {
  const e = data.error as { message?: unknown } | undefined;
  return typeof e?.message === "string" ? e.message : "That did not work. Try again.";
}

function btn(text: string, cls = "btn btn--secondary"): HTMLButtonElement {
  const b = h("button", cls, text);
  b.type = "button";
  return b;
}

/** The card's actions: Message and Verify for someone else; the nickname editor for oneself. */
function actions(profile: Profile, shownName: string, self: string, dialog: HTMLDialogElement): HTMLElement[] {
  const out: HTMLElement[] = [];
  const community = communityHere();
  const error = h("p", "field__error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const fail = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };
  if (community && shownName && shownName !== profile.display_name && profile.id !== self) out.push(h("p", "profile-card__nick muted", `Nickname in this community: ${shownName}`));
  if (profile.id !== self) {
    const row = h("div", "btn-row profile-card__actions");
    const message = btn("Message", "btn btn--primary");
    message.addEventListener("click", async () => {
      message.disabled = true;
      const r = await send("POST", "/api/dms", { user_id: profile.id });
      message.disabled = false;
      if (r.ok && typeof r.data.channel_id === "string") location.assign(`/dms/${r.data.channel_id}`);
      else fail(errorText(r.data));
    });
    row.append(message);
    if (document.querySelector("[data-chat-ready]")) {
      // trust-ui.ts (mounted with the chat) opens the safety-number panel for this button.
      const verify = btn("Verify");
      verify.dataset.verifyUser = profile.id;
      verify.dataset.verifyName = profile.display_name;
      verify.setAttribute("aria-label", `Verify ${profile.display_name}: compare safety numbers`);
      row.append(verify);
      out.push(row);
    } else out.push(row, h("p", "muted profile-card__hint", "To verify them, open your conversation with them and choose Verify."));
  } else if (community) {
    // One's own nickname in this community: the member list row shows it (or the display name).
    const current = document.querySelector(`.member[data-presence-user="${CSS.escape(self)}"] .member__name`)?.textContent?.trim() ?? shownName;
    const form = h("form", "form profile-card__nickname");
    const id = `${dialog.getAttribute("aria-labelledby")}-nick`;
    const label = h("label", "field__label", "Your nickname in this community");
    label.htmlFor = id;
    const input = h("input", "input");
    input.id = id;
    input.name = "nickname";
    input.maxLength = 64;
    input.autocomplete = "off";
    input.value = current && current !== profile.display_name ? current : "";
    input.placeholder = profile.display_name;
    const hint = h("p", "muted", "Shown instead of your display name here. Leave empty to use your display name.");
    const save = h("button", "btn btn--secondary btn--sm", "Save nickname");
    save.type = "submit";
    const done = h("p", "muted");
    done.setAttribute("role", "status");
    form.append(label, input, hint, save, done);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      done.textContent = "";
      save.disabled = true;
      const r = await send("PUT", `/api/communities/${community}/nickname`, { nickname: input.value.trim() || null });
      save.disabled = false;
      if (r.ok) done.textContent = r.data.nickname ? `Saved: you are “${String(r.data.nickname)}” here.` : "Saved: your display name is shown here.";
      else fail(errorText(r.data));
    });
    out.push(form);
  }
  out.push(error);
  return out;
}
let openCard: HTMLDialogElement | null = null;

export async function openProfileCard(userId: string, opener: HTMLElement): Promise<void> {
  openCard?.close();
  const dialog = h("dialog", "dialog profile-card");
  const titleId = `profile-card-${++seq}`;
  dialog.setAttribute("aria-labelledby", titleId);
  dialog.dataset.profileCard = userId;
  const header = h("div", "profile-card__header");
  // The avatar the user clicked next to (initials and colour), shown larger; decorative.
  const avatar = opener.closest("[data-profile-user]")?.querySelector(".avatar") ?? opener.closest(".msg-group")?.querySelector(":scope > .avatar");
  let initials: HTMLElement | null = null;
  if (avatar) {
    const copy = avatar.cloneNode(true) as HTMLElement;
    copy.classList.remove("avatar--sm", "avatar--md", "avatar--xs");
    copy.classList.add("avatar--lg");
    copy.querySelector(".avatar__status")?.remove();
    copy.setAttribute("aria-hidden", "true");
    header.append(copy);
    initials = copy;
  }
  const names = h("div", "profile-card__names");
  const shownName = opener.closest("[data-profile-user]")?.querySelector(".member__name")?.textContent?.trim() || (opener.matches(".msg-group__author") ? opener.textContent?.trim() : "") || "";
  const title = h("h2", "dialog__title profile-card__name", opener.textContent?.trim() || "Profile");
  title.id = titleId;
  const handle = h("p", "profile-card__handle muted");
  names.append(title, handle);
  header.append(names);
  const body = h("div", "dialog__body profile-card__body");
  const status = h("p", "profile-card__status");
  const aboutTitle = h("h3", "profile-card__label", "About me");
  const about = h("p", "profile-card__about");
  const extra = h("div", "profile-card__extra");
  extra.dataset.profileExtra = "";
  extra.dataset.userId = userId;
  const loading = h("p", "muted", "Loading…");
  loading.setAttribute("role", "status");
  body.append(loading);
  const footer = h("div", "dialog__footer");
  const close = h("button", "btn btn--secondary", "Close");
  close.type = "button";
  close.addEventListener("click", () => dialog.close());
  footer.append(close);
  dialog.append(header, body, footer);
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (openCard === dialog) openCard = null;
    document.dispatchEvent(new CustomEvent("profile-card:close", { detail: { userId } }));
    if (opener.isConnected) opener.focus();
  });
  // A click on the backdrop (outside the card's box) closes it, as Escape does.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    if (event.clientX < r.left || event.clientX > r.right || event.clientY < r.top || event.clientY > r.bottom) dialog.close();
  });
  document.body.append(dialog);
  openCard = dialog;
  dialog.showModal();
  close.focus();

  let profile: Profile | null = null;
  try {
    // GET /api/users/{id}: the profile card's fields plus the avatar (docs/profiles.md).
    const res = await fetch(`/api/users/${encodeURIComponent(userId)}`, { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (res.ok) profile = (await res.json()) as Profile;
  } catch {
    profile = null;
  }
  if (!dialog.isConnected) return;
  if (!profile) {
    loading.textContent = "This profile could not be loaded.";
    return;
  }
  title.textContent = profile.display_name;
  if (profile.avatar_url?.startsWith("/media/")) {
    // The uploaded avatar (a server re-encoding, same origin) replaces the initials; decorative.
    const img = h("img", "avatar avatar--lg avatar--image");
    img.src = profile.avatar_url;
    img.alt = "";
    img.width = 64;
    img.height = 64;
    if (initials) initials.replaceWith(img);
    else header.prepend(img);
  }
  handle.textContent = `@${profile.username}${profile.pronouns ? ` · ${profile.pronouns}` : ""}`;
  const parts: HTMLElement[] = [];
  if (profile.custom_status) {
    status.textContent = profile.custom_status;
    parts.push(status);
  }
  if (profile.bio) {
    about.textContent = profile.bio;
    parts.push(aboutTitle, about);
  }
  if (parts.length === 0) parts.push(h("p", "muted", "No status or about me yet."));
  const self = document.querySelector<HTMLElement>("[data-profile-self]")?.dataset.profileSelf ?? "";
  loading.replaceWith(...parts, ...actions(profile, shownName, self, dialog), extra);
  document.dispatchEvent(new CustomEvent<ProfileCardEventDetail>("profile-card:open", { detail: { userId, extra, dialog } }));
}
