// The optional chat UI, loaded lazily by chat.js (a separate chunk, see scripts/build.ts): the
// emoji picker (reactions and composer), polls, scheduled messages and bookmarks; and the
// key-backup banner (banner.ts), which is not needed before the messages show either.
export { mountBanner } from "./banner.ts";
import { openBookmarkDialog, openBookmarkList } from "./bookmarks-ui.ts";
import { openEmojiPicker } from "./emoji-picker.ts";
import type { ExtrasApi, ExtrasContext } from "./extras-types.ts";
import { PollStrip } from "./polls-ui.ts";
import { openScheduledList, openScheduleDialog } from "./schedule.ts";
import { button, h } from "./ui-kit.ts";

export function mountExtras(ctx: ExtrasContext): ExtrasApi {
  const cleanup: (() => void)[] = [];
  const polls = new PollStrip(ctx);
  cleanup.push(() => polls.dispose());
  void polls.load().catch(() => {});

  // Header: the user's own lists.
  const header = ctx.pane.querySelector<HTMLElement>(".pane-header");
  if (header) {
    const tools = h("div", "pane-tools");
    const bookmarks = button("Bookmarks", "btn btn--ghost btn--sm");
    bookmarks.addEventListener("click", () => void openBookmarkList(ctx, bookmarks));
    const scheduled = button("Scheduled", "btn btn--ghost btn--sm");
    scheduled.addEventListener("click", () => void openScheduledList(ctx, scheduled));
    tools.append(bookmarks, scheduled);
    header.querySelector(".pane-header__members-toggle")?.before(tools) ?? header.append(tools);
    cleanup.push(() => tools.remove());
  }

  // Composer: emoji at the caret, "Poll", "Schedule…".
  const { form, input } = ctx;
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
    const actions = h("div", "composer-actions");
    const poll = button("Poll", "btn btn--ghost btn--sm");
    poll.setAttribute("aria-label", "Create a poll");
    poll.addEventListener("click", () => polls.openCreateDialog(poll));
    const schedule = button("Schedule…", "btn btn--ghost btn--sm");
    schedule.setAttribute("aria-label", "Schedule a message");
    schedule.addEventListener("click", () => openScheduleDialog(ctx, schedule));
    actions.append(poll, schedule);
    form.before(actions);
    cleanup.push(() => actions.remove());
  }

  return {
    openReactionPicker(trigger, react) {
      openEmojiPicker({ trigger, label: "Pick a reaction", onPick: react });
    },
    openBookmarkDialog(messageId, trigger) {
      openBookmarkDialog(ctx, messageId, trigger);
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
