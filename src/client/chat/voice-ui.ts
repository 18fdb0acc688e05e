// The voice-note recorder (files bundle, loaded when the composer's microphone button is pressed,
// files-hook.ts): the microphone is asked for only then. A bar above the composer shows the
// elapsed time with Stop and Cancel; after Stop, the recording can be listened to, then Send or
// Discard. Send puts the recording in the files tray as an audio file — encrypted and uploaded
// like any other file — and the composer sends it (its text as the caption) once uploaded.
import type { FilesTray } from "./files-types.ts";

/** A recording stops by itself after this long. */
export const MAX_RECORDING_MS = 10 * 60 * 1000;
/** Containers tried in order: WebM/Opus streams into a MediaSource on the reader's side (media-view.ts). */
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];

let open: HTMLElement | null = null;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

function btn(text: string, cls: string, label: string): HTMLButtonElement {
  const b = h("button", `btn btn--sm ${cls}`, text);
  b.type = "button";
  b.setAttribute("aria-label", label);
  return b;
}

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

function notice(detail: string): void {
  document.dispatchEvent(new CustomEvent("chat:notice", { detail }));
}

export async function recordVoice(tray: FilesTray, form: HTMLFormElement, button: HTMLButtonElement): Promise<void> {
  if (open) return open.querySelector<HTMLButtonElement>("button")?.focus();
  const bar = h("div", "voice-rec");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Voice note");
  const status = h("span", "voice-rec__status", "Asking for the microphone…");
  status.setAttribute("role", "status");
  const time = h("span", "voice-rec__time", "0:00");
  time.setAttribute("role", "timer");
  time.setAttribute("aria-label", "Elapsed time");
  const controls = h("div", "voice-rec__controls");
  bar.append(status, time, controls);
  form.before(bar);
  open = bar;
  button.disabled = true;
  let stream: MediaStream | null = null;
  let timer = 0;
  let url = "";
  const close = (focus: HTMLElement | null) => {
    clearInterval(timer);
    stream?.getTracks().forEach((t) => t.stop());
    if (url) URL.revokeObjectURL(url);
    bar.remove();
    open = null;
    button.disabled = false;
    focus?.focus();
  };
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    close(button);
    return notice(`The microphone is not available: ${(error as Error)?.message || "permission was not given"}.`);
  }
  const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t));
  let recorder: MediaRecorder;
  try {
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  } catch (error) {
    close(button);
    return notice(`This browser cannot record: ${(error as Error).message}`);
  }
  const parts: Blob[] = [];
  let cancelled = false;
  recorder.addEventListener("dataavailable", (e) => {
    if (e.data.size) parts.push(e.data);
  });
  const stop = btn("Stop", "btn--secondary", "Stop recording");
  const cancel = btn("Cancel", "btn--ghost", "Cancel the voice note");
  controls.append(stop, cancel);
  const started = Date.now();
  recorder.start(1000);
  status.textContent = "Recording";
  bar.dataset.phase = "recording";
  timer = window.setInterval(() => {
    const elapsed = Date.now() - started;
    time.textContent = clock(elapsed);
    if (elapsed >= MAX_RECORDING_MS) stop.click();
  }, 250);
  stop.focus();
  cancel.addEventListener("click", () => {
    cancelled = true;
    if (recorder.state !== "inactive") recorder.stop();
    close(button);
  });
  stop.addEventListener("click", () => {
    if (recorder.state !== "inactive") recorder.stop();
  });
  recorder.addEventListener("stop", () => {
    clearInterval(timer);
    stream?.getTracks().forEach((t) => t.stop());
    if (cancelled) return;
    const elapsed = Date.now() - started;
    time.textContent = clock(elapsed);
    // The recorder's type with its parameters dropped (a message's file type has none); WebM's
    // codecs are read back from the file by the tray (media-prep.ts).
    const type = (recorder.mimeType || mimeType || "audio/webm").split(";")[0]!;
    const blob = new Blob(parts, { type });
    if (!blob.size) {
      close(button);
      return notice("Nothing was recorded.");
    }
    const ext = type === "audio/mp4" ? "m4a" : type === "audio/ogg" ? "ogg" : "webm";
    const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, "-");
    const file = new File([blob], `voice-note-${stamp}.${ext}`, { type });
    status.textContent = "Recorded";
    bar.dataset.phase = "recorded";
    url = URL.createObjectURL(blob);
    const preview = h("audio", "voice-rec__preview");
    preview.controls = true;
    preview.src = url;
    preview.setAttribute("aria-label", "Listen to the voice note");
    const send = btn("Send", "btn--primary", "Send the voice note");
    const discard = btn("Discard", "btn--ghost", "Discard the voice note");
    controls.replaceChildren(preview, send, discard);
    send.addEventListener("click", () => {
      tray.add([file], { send: true });
      close(form.querySelector<HTMLElement>("#composer-input"));
    });
    discard.addEventListener("click", () => close(button));
    send.focus();
  });
  bar.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    (recorder.state === "inactive" ? controls.querySelector<HTMLButtonElement>("button:last-child") : cancel)?.click();
  });
}
