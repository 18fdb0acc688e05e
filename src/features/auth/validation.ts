/** Field rules shared by the API and the pages; each returns a message for the field or null. */
export const USERNAME_RULE = "3–32 letters, digits, _ - or . ; starting with a letter or digit; no .. and not ending with .";

export function checkUsername(username: string): string | null {
  if (username.length < 3 || username.length > 32) return "Use 3 to 32 characters.";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(username)) return "Use letters, digits, _ - or . and start with a letter or digit.";
  if (username.includes("..")) return "Two dots in a row are not allowed.";
  if (username.endsWith(".")) return "The username cannot end with a dot.";
  return null;
}

export function checkEmail(email: string): string | null {
  if (email.length > 254) return "The address is too long.";
  if (!/^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(email)) return "Enter an email address like name@example.com.";
  return null;
}

export function checkLength(value: string, min: number, max: number): string | null {
  const length = [...value].length;
  if (length < min) return min === 1 ? "This cannot be empty." : `Use at least ${min} characters.`;
  if (length > max) return `Use at most ${max} characters.`;
  return null;
}

/** Trims and removes control characters (they have no business in names and statuses). */
export function cleanText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
}
