// Avatar: initials on a deterministic colour, or an image. Colours are CSS classes
// (avatar--c0..c7) because CSP forbids style="" attributes.
import type { FC } from "hono/jsx";

export const AVATAR_COLOURS = 8;

/** FNV-1a over the id: stable across servers and restarts, so a user keeps their colour. */
export function avatarColourIndex(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % AVATAR_COLOURS;
}

/** Up to two letters: first letters of the first and last words ("Ada Lovelace" -> "AL"). */
export function initialsOf(name: string): string {
  // Only letters and digits count: "Ada <b>" -> "AB", not "A<". Array.from-style matching
  // keeps surrogate pairs (emoji, CJK extensions) whole.
  const words = name
    .trim()
    .split(/\s+/)
    .map((w) => w.match(/[\p{L}\p{N}]/gu) ?? [])
    .filter((chars) => chars.length > 0);
  const first = words[0] ?? [];
  const last = words.length > 1 ? (words[words.length - 1] ?? []) : [];
  const a = first[0] ?? "?";
  const b = last[0];
  return (a + (b ?? "")).toUpperCase();
}

export type AvatarSize = "xs" | "sm" | "md" | "lg";

export type AvatarProps = {
  userId: string;
  name: string;
  imageUrl?: string | null;
  size?: AvatarSize;
  /** Presence dot; omit when unknown. */
  status?: "online" | "idle" | "dnd" | "offline";
  /** Decorative avatars (next to a visible name) are hidden from screen readers. */
  decorative?: boolean;
  /**
   * A person's avatar (not a community's): live.js (src/client/live/faces.ts) fills in the
   * uploaded image when the server did not look it up (imageUrl undefined) and repaints it on
   * `user:profile`.
   */
  person?: boolean;
};

export const Avatar: FC<AvatarProps> = ({ userId, name, imageUrl, size = "md", status, decorative = true, person = false }) => {
  const cls = `avatar avatar--${size} avatar--c${avatarColourIndex(userId)}`;
  const label = decorative ? undefined : name;
  return (
    <span class={cls} role={decorative ? undefined : "img"} aria-label={label} aria-hidden={decorative ? "true" : undefined} data-avatar-user={person ? userId : undefined} data-avatar-known={person && imageUrl !== undefined ? "" : undefined}>
      {imageUrl ? <img class="avatar__img" src={imageUrl} alt="" loading="lazy" decoding="async" /> : <span class="avatar__initials">{initialsOf(name)}</span>}
      {status ? <span class={`avatar__status avatar__status--${status}`} /> : null}
    </span>
  );
};
