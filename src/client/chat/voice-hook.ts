// chat.js's side of calls, kept tiny: the call client is its own bundle, chat-voice.js
// (src/client/voice), imported when a page offers calls ([data-voice]) or a call event arrives.
import type { VoiceHost, VoiceModule } from "../voice/types.ts";

/** The built name of chat-voice.js, set by scripts/build.ts (`define`); absent under bun test. */
declare const HEARTH_VOICE_CHUNK: string | undefined;

let loading: Promise<VoiceModule> | null = null;

export function loadVoice(host: () => Promise<VoiceHost>): Promise<VoiceModule> {
  const name = typeof HEARTH_VOICE_CHUNK === "string" ? HEARTH_VOICE_CHUNK : "chat-voice.js";
  loading ??= Promise.all([import(new URL(name, import.meta.url).href) as Promise<VoiceModule>, host()]).then(([m, h]) => (m.start(h), m)).catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

export const voiceLoaded = (): Promise<VoiceModule> | null => loading;

/** Frames for the call client: it is loaded for them if a call event arrives first (a ring). */
export const isVoiceFrame = (type: string, ref?: unknown): boolean => /^(voice|rtc):/.test(type) || (type === "error" && typeof ref === "string" && ref.startsWith("voice"));
