// Faces on every signed-in page (issue 17 §2, docs/profiles.md "In the browser"), part of live.js:
//
// - A person's avatar: any element `.avatar[data-avatar-user="{id}"]` (message authors drawn by
//   chat.js, DM rows, member rows, the account menu) shows the uploaded avatar in place of its
//   initials. Server-rendered avatars that already carry the image are marked
//   `data-avatar-known`; the others ask GET /api/users/{id} once per person per page (cached).
// - Live: `user:profile {user_id}` (the server sends it only to community mates, DM partners and
//   the person's own sessions) forgets the cached answer and repaints that person's avatars.
// - The profile card (a lazy chunk, ../chat/profile-card.ts) opens on a click on any
//   [data-profile-user] (names, member rows, DM avatars) or on a message group's avatar.

type Answer = { avatar_url?: string | null };

const cache = new Map<string, Promise<string | null>>();

/** User ids are UUIDs; anything else (a webhook's `webhook:<name>` key) has no profile to ask for. */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function avatarOf(userId: string): Promise<string | null> {
  if (!USER_ID.test(userId)) return Promise.resolve(null);
  let p = cache.get(userId);
  if (!p) {
    p = fetch(`/api/users/${encodeURIComponent(userId)}`, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then((r) => (r.ok ? (r.json() as Promise<Answer>) : {}))
      .then((a: Answer) => (typeof a.avatar_url === "string" && a.avatar_url.startsWith("/media/") ? a.avatar_url : null))
      .catch(() => null);
    cache.set(userId, p);
  }
  return p;
}

/** Shows `url` in the avatar (or its initials when null); the colour class stays for the initials. */
export function paintAvatar(el: HTMLElement, url: string | null): void {
  let img = el.querySelector<HTMLImageElement>("img.avatar__img");
  const initials = el.querySelector<HTMLElement>(".avatar__initials");
  if (url) {
    if (!img) {
      img = document.createElement("img");
      img.className = "avatar__img";
      img.alt = "";
      img.decoding = "async";
      el.prepend(img);
    }
    if (img.getAttribute("src") !== url) img.src = url;
    if (initials) initials.hidden = true;
  } else {
    img?.remove();
    if (initials) initials.hidden = false;
  }
  el.dataset.avatarKnown = "";
}

function scan(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-avatar-user]:not([data-avatar-known]):not([data-avatar-pending])")) {
    const userId = el.dataset.avatarUser!;
    el.dataset.avatarPending = "";
    void avatarOf(userId).then((url) => {
      delete el.dataset.avatarPending;
      paintAvatar(el, url);
    });
  }
}

/** `user:profile`: this person's avatar (or name fields) changed; repaint every avatar of theirs. */
export function onProfileChanged(userId: string): void {
  cache.delete(userId);
  const sel = `[data-avatar-user="${CSS.escape(userId)}"]`;
  for (const el of document.querySelectorAll<HTMLElement>(sel)) {
    delete el.dataset.avatarKnown;
    delete el.dataset.avatarPending;
  }
  scan();
  document.dispatchEvent(new CustomEvent("user:profile", { detail: { userId } }));
}

let queued = false;
export function installFaces(): void {
  scan();
  // Timeline rows, panels and swapped regions arrive later: one scan per frame of changes.
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      scan();
    });
  }).observe(document.body, { childList: true, subtree: true });
  document.addEventListener("click", (event) => {
    const target = event.target as Element;
    const trigger =
      target.closest?.<HTMLElement>("[data-profile-user]") ?? target.closest?.(".msg-group > .avatar")?.parentElement?.querySelector<HTMLElement>("[data-profile-user]");
    const userId = trigger?.dataset.profileUser;
    if (!trigger || !userId || !USER_ID.test(userId)) return;
    event.preventDefault();
    void import("../chat/profile-card.ts").then((m) => m.openProfileCard(userId, trigger));
  });
}
