/**
 * The banner every signed-in page shows (inside the layout's #announcement-banner region) and the
 * admin tab /admin/announcements. Announcement text is markdown rendered by views/markdown.tsx:
 * escaped by construction, links http(s)/mailto only.
 */
import type { FC } from "hono/jsx";
import { ANNOUNCEMENT_REGION_ID, ErrorBanner, ErrorSlot, Field, Markdown } from "../../../views/index.ts";
import { MAX_ANNOUNCEMENT_CHARS, type Announcement } from "./service.ts";

export type BannerItem = { id: string; body: string };

/**
 * The announcements themselves (the layout's region holds them). Dismiss works with and without
 * script: htmx swaps the region; a plain POST goes back to the page it came from (Referer).
 */
export const AnnouncementItems: FC<{ items: BannerItem[] }> = ({ items }) => (
  <>
    {items.map((a) => (
      <section class="announcement" aria-labelledby={`ann-${a.id}`} data-announcement-id={a.id}>
        <span class="announcement__label" id={`ann-${a.id}`}>
          Announcement
        </span>
        <div class="announcement__body">
          <Markdown source={a.body} />
        </div>
        <form class="announcement__dismiss" method="post" action={`/announcements/${a.id}/dismiss`} hx-post={`/announcements/${a.id}/dismiss`} hx-target={`#${ANNOUNCEMENT_REGION_ID}`} hx-swap="outerHTML">
          <button type="submit" class="btn btn--ghost btn--sm" aria-describedby={`ann-${a.id}`}>
            Dismiss
          </button>
        </form>
      </section>
    ))}
  </>
);

/** The whole region, as GET /announcements/banner and the dismiss form answer it (swapped in place). */
export const AnnouncementRegion: FC<{ items: BannerItem[] }> = (p) => (
  <div id={ANNOUNCEMENT_REGION_ID} class="announcements">
    {p.items.length > 0 ? <AnnouncementItems items={p.items} /> : null}
  </div>
);

export const EXPIRY_CHOICES = [
  { value: "never", label: "Never (until expired by hand)", ms: null },
  { value: "1h", label: "In 1 hour", ms: 3_600_000 },
  { value: "1d", label: "In 1 day", ms: 86_400_000 },
  { value: "7d", label: "In 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "In 30 days", ms: 30 * 86_400_000 },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]["value"];

const fmt = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16) + " UTC";

const ExpirySelect: FC<{ id: string; keep?: boolean }> = ({ id, keep }) => (
  <div class="field">
    <label class="field__label" for={id}>
      Expires
    </label>
    <select class="input" id={id} name="expires_in">
      {keep ? (
        <option value="keep" selected>
          Keep as it is
        </option>
      ) : null}
      {EXPIRY_CHOICES.map((c) => (
        <option value={c.value}>{c.label}</option>
      ))}
    </select>
  </div>
);

export type AnnouncementsPageProps = { announcements: Announcement[]; error?: { targetId: string | "new"; message: string }; draft?: string };

export const AnnouncementsPage: FC<AnnouncementsPageProps> = (p) => (
  <div class="stack">
    <section class="card stack" aria-labelledby="new-ann-h">
      <h2 id="new-ann-h">New announcement</h2>
      <p class="muted">
        Shown at the top of every signed-in page, on every open tab at once, until it expires or each person dismisses it. Markdown: **bold**, *italic*, `code`, links (http, https,
        mailto), lists, quotes.
      </p>
      <form method="post" action="/admin/announcements" class="form" id="new-announcement">
        <ErrorSlot>{p.error?.targetId === "new" ? <ErrorBanner title="Not published" message={p.error.message} /> : null}</ErrorSlot>
        <Field name="body" id="new-ann-body" type="textarea" label="Text" required maxLength={MAX_ANNOUNCEMENT_CHARS} rows={4} value={p.draft} hint={`Up to ${MAX_ANNOUNCEMENT_CHARS} characters.`} />
        <ExpirySelect id="new-ann-expiry" />
        <div class="form__actions">
          <button type="submit" class="btn btn--primary">
            Publish
          </button>
        </div>
      </form>
    </section>
    <section class="panel" aria-labelledby="anns-h">
      <div class="panel__header">
        <h2 class="panel__title" id="anns-h">
          Announcements ({p.announcements.length})
        </h2>
      </div>
      {p.announcements.length === 0 ? (
        <p class="muted panel__empty">None yet.</p>
      ) : (
        <ul class="session-list" data-testid="announcements-list">
          {p.announcements.map((a) => (
            <li class="session stack" data-announcement-id={a.id}>
              <p class="session__device">
                {a.active ? <span class="badge badge--accent">Active</span> : <span class="badge">Expired</span>}{" "}
                <span class="muted">
                  by {a.createdByName ? `@${a.createdByName}` : "a deleted user"}, {fmt(a.createdAt)}
                  {a.updatedAt.getTime() !== a.createdAt.getTime() ? `, edited ${fmt(a.updatedAt)}` : ""}
                  {a.expiresAt ? `; ${a.active ? "expires" : "expired"} ${fmt(a.expiresAt)}` : "; no expiry"}
                </span>
              </p>
              <div class="announcement__preview">
                <Markdown source={a.body} />
              </div>
              <details>
                <summary>Edit</summary>
                <form method="post" action={`/admin/announcements/${a.id}`} class="form" aria-label="Edit announcement">
                  <ErrorSlot>{p.error?.targetId === a.id ? <ErrorBanner title="Not saved" message={p.error.message} /> : null}</ErrorSlot>
                  <Field name="body" id={`ann-body-${a.id}`} type="textarea" label="Text" required maxLength={MAX_ANNOUNCEMENT_CHARS} rows={4} value={a.body} />
                  <ExpirySelect id={`ann-expiry-${a.id}`} keep />
                  <label class="checkbox" for={`ann-again-${a.id}`}>
                    <input type="checkbox" id={`ann-again-${a.id}`} name="show_again" value="true" />
                    <span>
                      Show again to those who dismissed it
                      <span class="checkbox__hint">Without this, people who closed it do not see the edit.</span>
                    </span>
                  </label>
                  <div class="form__actions">
                    <button type="submit" class="btn btn--primary btn--sm">
                      Save
                    </button>
                  </div>
                </form>
              </details>
              {a.active ? (
                <form method="post" action={`/admin/announcements/${a.id}/expire`} class="inline-form" data-confirm="Expire this announcement now?" data-confirm-detail="It disappears from every open tab at once." data-confirm-action="Expire">
                  <button type="submit" class="btn btn--danger btn--sm">
                    Expire now
                  </button>
                </form>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  </div>
);
