// The push-to-talk key (docs/voice.md "Push-to-talk"): a KeyboardEvent.code kept in this browser's
// localStorage (default Space), chosen in the call's audio settings by pressing the key.
const STORE = "hearth.voice.pttKey";
export const DEFAULT_PTT_KEY = "Space";

/** Keys that keep their job: Escape cancels the choice, Tab moves focus. */
const RESERVED = new Set(["Escape", "Tab"]);

export function pttKeyCode(): string {
  try {
    return localStorage.getItem(STORE) || DEFAULT_PTT_KEY;
  } catch {
    return DEFAULT_PTT_KEY; // storage refused (privacy mode): the default
  }
}

/** Stores `code` unless it is reserved; true when stored. */
export function setPttKeyCode(code: string): boolean {
  if (!code || RESERVED.has(code)) return false;
  try {
    localStorage.setItem(STORE, code);
  } catch {
    return false;
  }
  return true;
}

/** "KeyV" → "V", "Digit1" → "1", "ShiftLeft" → "Left Shift", "F13" stays. */
export function pttKeyLabel(code = pttKeyCode()): string {
  const key = /^Key([A-Z])$/.exec(code) ?? /^Digit(\d)$/.exec(code);
  if (key) return key[1]!;
  const side = /^(Shift|Control|Alt|Meta)(Left|Right)$/.exec(code);
  if (side) return `${side[2]} ${side[1] === "Control" ? "Ctrl" : side[1]}`;
  return code.replace(/^Numpad/, "Numpad ");
}
