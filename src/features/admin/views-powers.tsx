/**
 * /admin/powers: the owner and the administrators, each with a form of their powers (checkboxes
 * the actor may not change are disabled, with the reason), and a form to make someone an admin.
 * Plain POST forms; revoking asks for a confirmation that says what happens.
 */
import type { FC } from "hono/jsx";
import { ErrorBanner, ErrorSlot, Field } from "../../../views/index.ts";
import { ADMIN_POWERS, type AdminPower } from "../auth/index.ts";
import { POWER_LABELS, type AdminListItem } from "./powers.ts";

export type PowersPageProps = {
  admins: AdminListItem[];
  /** The powers the viewer holds (every one for the owner): only these can change. */
  held: readonly AdminPower[];
  refusalFor: (a: AdminListItem) => string | null;
  error?: { targetId: string | "new"; message: string };
  username?: string;
};

const PowerBoxes: FC<{ idPrefix: string; checked: readonly string[]; held: readonly AdminPower[] }> = ({ idPrefix, checked, held }) => (
  <fieldset class="field">
    <legend class="field__label">Powers</legend>
    {ADMIN_POWERS.map((power) => (
      <label class="checkbox" for={`${idPrefix}-${power}`}>
        <input type="checkbox" id={`${idPrefix}-${power}`} name="powers" value={power} checked={checked.includes(power)} disabled={!held.includes(power)} />
        <span>
          {POWER_LABELS[power]} <code>{power}</code>
          {held.includes(power) ? null : <span class="checkbox__hint">You do not hold this power, so you cannot change it.</span>}
        </span>
      </label>
    ))}
  </fieldset>
);

export const PowersPage: FC<PowersPageProps> = (p) => (
  <div class="stack">
    <section class="card stack" aria-labelledby="grant-h">
      <h2 id="grant-h">Make someone an administrator</h2>
      <form method="post" action="/admin/powers/grant" class="form" id="grant-form">
        <ErrorSlot>{p.error?.targetId === "new" ? <ErrorBanner title="Not granted" message={p.error.message} /> : null}</ErrorSlot>
        <Field name="username" id="grant-username" label="Username" required maxLength={64} value={p.username} autocomplete="off" />
        <PowerBoxes idPrefix="grant" checked={[]} held={p.held} />
        <div class="form__actions">
          <button type="submit" class="btn btn--primary">
            Grant
          </button>
        </div>
      </form>
    </section>
    <section class="panel" aria-labelledby="admins-h">
      <div class="panel__header">
        <h2 class="panel__title" id="admins-h">
          Administrators ({p.admins.length})
        </h2>
      </div>
      <ul class="session-list" data-testid="admins-list">
        {p.admins.map((a) => {
          const why = p.refusalFor(a);
          return (
            <li class="session stack" data-user-id={a.id}>
              <p class="session__device">
                <strong>{a.displayName}</strong> <span class="muted">@{a.username}</span> {a.isOwner ? <span class="badge badge--accent">Owner</span> : null}
                {a.suspended ? <span class="badge badge--danger">Suspended</span> : null}
              </p>
              {why ? (
                <p class="muted">
                  {a.isOwner ? "Every power. " : `${a.powers.join(", ") || "No power"}. `}
                  {why}
                </p>
              ) : (
                <>
                  <ErrorSlot>{p.error?.targetId === a.id ? <ErrorBanner title="Not changed" message={p.error.message} /> : null}</ErrorSlot>
                  <form method="post" action={`/admin/users/${a.id}/powers`} class="form" aria-label={`Powers of ${a.displayName}`}>
                    <input type="hidden" name="is_admin" value="true" />
                    <PowerBoxes idPrefix={`p-${a.id}`} checked={a.powers} held={p.held} />
                    <div class="form__actions">
                      <button type="submit" class="btn btn--primary btn--sm">
                        Save powers
                      </button>
                    </div>
                  </form>
                  <form
                    method="post"
                    action={`/admin/users/${a.id}/powers`}
                    class="inline-form"
                    data-confirm={`Remove ${a.displayName} as administrator?`}
                    data-confirm-detail="Every admin power of theirs ends with their next request; their account stays as it is."
                    data-confirm-action="Remove admin"
                  >
                    <input type="hidden" name="is_admin" value="false" />
                    <button type="submit" class="btn btn--danger btn--sm">
                      Remove admin
                    </button>
                  </form>
                </>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  </div>
);
