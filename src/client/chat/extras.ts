// Bookmarks from the message menu (docs/messages.md, "Bookmarks, polls and scheduled messages").
// No note is sent from here: a note would be encrypted with the user's own key material first.
import { ApiError, callApi } from "./api.ts";

export type BookmarkOutcome = "added" | "exists";

/** Bookmarks a message; a second bookmark of the same message is not an error for the user. */
export async function bookmarkMessage(messageId: string): Promise<BookmarkOutcome> {
  try {
    await callApi("POST", "/api/bookmarks", { message_id: messageId });
    return "added";
  } catch (error) {
    if (error instanceof ApiError && error.code === "BOOKMARK_EXISTS") return "exists";
    throw error;
  }
}

export function bookmarkNotice(outcome: BookmarkOutcome): string {
  return outcome === "added" ? "Bookmarked." : "Already bookmarked.";
}
