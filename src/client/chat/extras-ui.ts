// The optional chat UI, loaded lazily by chat.js (a separate chunk, see scripts/build.ts): the
// emoji picker (reactions and composer), polls, scheduled messages and bookmarks; and the
// key-backup banner (banner.ts), which is not needed before the messages show either.
export { mountBanner } from "./banner.ts";
export { showDeviceRevoked } from "./device-revoked.ts";
export { filterEmoji } from "./emoji-data.ts";
import { openBookmarkDialog, openBookmarkList } from "./bookmarks-ui.ts";
import { openEmojiPicker } from "./emoji-picker.ts";
import type { ExtrasApi, ExtrasContext } from "./extras-types.ts";
import { MeetingStrip, openMeetingDialog } from "./meetings-ui.ts";
import { PollStrip } from "./polls-ui.ts";
import { confirmDeleteMessage, openReportMessage } from "./report-message.ts";
import { openScheduledList, openScheduleDialog } from "./schedule.ts";
import { button, h } from "./ui-kit.ts";
import { openEditHistory } from "./history-ui.ts";
import { openForward } from "./forward-ui.ts";

export function mountExtras(ctx: ExtrasContext): ExtrasApi {
  const cleanup: (() => void)[] = [];
  const polls = new PollStrip(ctx);
  cleanup.push(() => polls.dispose());
  void polls.load().catch(() => {});
  const meetings = new MeetingStrip(ctx);
  cleanup.push(() => meetings.dispose());
  void meetings.load().catch(() => {});

  // One row above the composer: "Poll", "Schedule…" (when the user may send), then the user's
  // own lists "Scheduled" and "Bookmarks" (the header has no room for them at 360 px).
  const { form, input } = ctx;
  const actions = h("div", "composer-actions");
  actions.setAttribute("role", "toolbar");
  actions.setAttribute("aria-label", "More");
  if (form && input && ctx.canSend) {
    const emoji = form.querySelector<HTMLButtonElement>(".composer__emoji");
    if (emoji) {
      emoji.disabled = false;
      emoji.setAttribute("aria-expanded", "false");
      const onEmoji = () => openEmojiPicker({
        trigger: emoji,
        label: "Insert emoji",
        onPick: (e) => {
          const start = input.selectionStart ?? input.value.length;
          const end = input.selectionEnd ?? start;
          input.setRangeText(e, start, end, "end");
          input.dispatchEvent(new Event("input"));
          queueMicrotask(() => input.focus());
        },
      });
      emoji.addEventListener("click", onEmoji);
      cleanup.push(() => emoji.removeEventListener("click", onEmoji));
    }
    const poll = button("Poll", "btn btn--ghost btn--sm");
    poll.setAttribute("aria-label", "Create a poll");
    poll.addEventListener("click", () => polls.openCreateDialog(poll));
    const schedule = button("Schedule…", "btn btn--ghost btn--sm");
    schedule.setAttribute("aria-label", "Schedule a message");
    schedule.addEventListener("click", () => openScheduleDialog(ctx, schedule));
    const meeting = button("Meeting…", "btn btn--ghost btn--sm");
    meeting.setAttribute("aria-label", "Schedule a meeting");
    meeting.addEventListener("click", () => openMeetingDialog(ctx, meetings, meeting));
    actions.append(poll, schedule, meeting);
  }
  const scheduled = button("Scheduled", "btn btn--ghost btn--sm composer-actions__end");
  scheduled.addEventListener("click", () => void openScheduledList(ctx, scheduled));
  const bookmarks = button("Bookmarks", "btn btn--ghost btn--sm");
  bookmarks.addEventListener("click", () => void openBookmarkList(ctx, bookmarks));
  actions.append(scheduled, bookmarks);
  const composerPane = ctx.pane.querySelector<HTMLElement>(".pane-composer");
  if (form) form.before(actions);
  else if (composerPane) composerPane.append(actions);
  else ctx.scroller.after(actions);
  cleanup.push(() => actions.remove());

  return {
    openReactionPicker(trigger, react) {
      openEmojiPicker({ trigger, label: "Pick a reaction", onPick: react });
    },
    openBookmarkDialog(messageId, trigger) {
      openBookmarkDialog(ctx, messageId, trigger);
    },
    openReportMessage,
    confirmDeleteMessage,
    openEditHistory(message, entry, opener) {
      void openEditHistory(ctx, entry?.message ?? message, entry?.text, entry?.row.authorName ?? "", opener);
    },
    openForward(text, entry, opener) {
      void openForward(ctx, { text, author: entry?.row.authorName ?? "", hasFiles: !!entry?.files?.length }, opener);
    },
    onPollUpdated(frame) {
      void polls.onUpdated(frame).catch(() => {});
    },
    retryWaiting: () => polls.retry(),
    dispose() {
      for (const fn of cleanup) fn();
    },
  };
}
