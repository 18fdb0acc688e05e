/**
 * The report dialog (Alpine `dialog`): a member reports another, optionally pasting what they saw.
 * The message menu's "Report message" opens the same dialog for one message (the chat's extras
 * chunk, report-message.ts, switches [data-report-*] to the message and back on close). On
 * success the server answers with a toast only: the form stays, and data-dialog-done
 * (src/client/dialog-forms.ts) empties it and closes the dialog, ready for the next report.
 */
import type { FC } from "hono/jsx";
import { ErrorSlot, Field } from "../../../views/index.ts";
import type { MemberView } from "./queries.ts";

export const ReportDialog: FC<{ communityId: string; members: MemberView[]; selfId: string }> = (p) => (
  <div x-data="dialog">
    <button type="button" class="btn btn--ghost btn--sm" x-on:click="show">
      Report…
    </button>
    <dialog class="dialog" x-ref="dialog" aria-labelledby="report-title" data-report-dialog>
      <form method="post" action="/reports" hx-post="/reports" hx-target="this" hx-swap="outerHTML" class="form" data-dialog-done>
        <div class="dialog__header">
          <h2 class="dialog__title" id="report-title" data-report-title>
            Report a member
          </h2>
        </div>
        <div class="dialog__body stack">
          <ErrorSlot />
          <input type="hidden" name="community_id" value={p.communityId} />
          <input type="hidden" name="target_type" value="user" data-report-type />
          <input type="hidden" name="target_id" value="" data-report-message-id disabled />
          <p class="muted" data-report-message hidden />
          <label class="field__label" for="report-target" data-report-member>
            Member
          </label>
          <select class="select" id="report-target" name="target_id" data-report-member>
            {p.members
              .filter((m) => m.userId !== p.selfId)
              .map((m) => (
                <option value={m.userId}>{m.nickname ?? m.displayName}</option>
              ))}
          </select>
          <Field name="reason" id="report-reason" label="Reason" type="textarea" rows={3} required maxLength={2000} />
          <Field name="attached_text" id="report-text" label="What you saw (shared with moderators)" type="textarea" rows={3} maxLength={4000} hint="The server cannot read messages; paste the text you want moderators to see." />
          {/* A reported message's files (report-message.ts fills the list): sent only when ticked. */}
          <fieldset class="report-pick" data-report-files hidden>
            <legend class="field__label">The message's files</legend>
            <p class="field__hint">
              A file you tick is decrypted on this device and sent to this community's moderators as it is (up to 10 MB in all): the server keeps it readable with the report, no longer end-to-end encrypted. Files you leave unticked stay private.
            </p>
            <ul class="report-pick__list" data-report-files-list />
            <p class="field__hint" role="status" data-report-files-status />
          </fieldset>
        </div>
        <div class="dialog__footer">
          <button type="button" class="btn btn--ghost" x-on:click="close">
            Cancel
          </button>
          <button type="submit" class="btn btn--danger">
            Send report
          </button>
        </div>
      </form>
    </dialog>
  </div>
);
