// The profile card: a person's name, pronouns, status and "about me", opened by clicking (or
// Enter/Space on) a name or avatar that carries data-profile-user (message authors, the member
// list). A lazily loaded chunk of chat.js, self-contained on purpose: it imports nothing, so no
// module is shared with the entry bundle or the extras chunk.
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
  loading.replaceWith(...parts, extra);
  document.dispatchEvent(new CustomEvent<ProfileCardEventDetail>("profile-card:open", { detail: { userId, extra, dialog } }));
}
