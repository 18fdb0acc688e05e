/** Poll limits (issue 6 §2: 2–10 options), one definition for the server's check and the client's form. */
export const MIN_POLL_OPTIONS = 2;
export const MAX_POLL_OPTIONS = 10;
