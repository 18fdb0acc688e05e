// The composer's side of files in chat.js, kept tiny: the paperclip opens the system file
// picker, and dropped or pasted files are taken too; the files UI itself (tray, encryption,
// upload, display) is its own bundle, chat-files.js (files-ui.ts), imported on first use.
import type { FilesModule } from "./files-types.ts";

/** The built name of chat-files.js, set by scripts/build.ts (`define`); absent under bun test. */
declare const HEARTH_FILES_CHUNK: string | undefined;

let loading: Promise<FilesModule> | null = null;

export function loadFilesUi(): Promise<FilesModule> {
  const name = typeof HEARTH_FILES_CHUNK === "string" ? HEARTH_FILES_CHUNK : "chat-files.js";
  loading ??= (import(new URL(name, import.meta.url).href) as Promise<FilesModule>).catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

/**
 * Files from the picker, a drop anywhere on the conversation pane, or a paste into the composer go
 * to `take`. The voice-note button shows only where recording can work; `record` opens the
 * recorder (in the files bundle), which asks for the microphone only then.
 */
export function wireAttach(form: HTMLFormElement, input: HTMLTextAreaElement, take: (files: File[]) => void, record: (button: HTMLButtonElement) => void): void {
  const attach = form.querySelector<HTMLButtonElement>(".composer__attach");
  if (!attach) return;
  const mic = form.querySelector<HTMLButtonElement>(".composer__record");
  if (mic && typeof MediaRecorder === "function" && typeof navigator.mediaDevices?.getUserMedia === "function") {
    mic.hidden = mic.disabled = false;
    mic.addEventListener("click", () => record(mic));
  }
  const picker = document.createElement("input");
  picker.type = "file";
  picker.multiple = true;
  picker.hidden = true;
  picker.className = "composer__file-input";
  picker.tabIndex = -1;
  picker.setAttribute("aria-hidden", "true");
  form.append(picker);
  attach.disabled = false;
  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    if (picker.files?.length) take([...picker.files]);
    picker.value = "";
  });
  const zone = form.closest<HTMLElement>(".pane") ?? form;
  const hasFiles = (e: DragEvent) => !!e.dataTransfer?.types.includes("Files");
  zone.addEventListener("dragover", (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  zone.addEventListener("drop", (e) => {
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length) return;
    e.preventDefault();
    take(files);
  });
  input.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!files.length) return;
    e.preventDefault();
    take(files);
  });
}
