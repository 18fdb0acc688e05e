// What chat.js and the lazily loaded files UI (files-ui.ts, its own bundle chat-files.js) hand
// each other. Types only: the two bundles share no module.
import type { Attached } from "./sender.ts";

export type { Attached };

export interface FilesHost {
  channelId: string;
  /** The composer form: the tray of attached files goes just before it. */
  form: HTMLFormElement;
  notify(text: string): void;
}

/** The files attached in the composer, uploading or uploaded, until a send takes them. */
export interface FilesTray {
  /** `send`: the composer sends (its text as the caption) once every attached file is uploaded. */
  add(files: readonly File[], opts?: { send?: boolean }): void;
  /** null: nothing attached; a string: why the send has to wait; else what the message carries (the tray empties). */
  take(): Attached | string | null;
  dispose(): void;
}

export interface FilesModule {
  createTray(host: FilesHost): FilesTray;
  /** Shows a message's files (from its decrypted content) under its text: images inline, others as cards. */
  renderAttachments(msg: HTMLElement, files: readonly unknown[]): void;
  /** The voice-note recorder above the composer (voice-ui.ts); the recording goes into the tray and is sent. */
  recordVoice(tray: FilesTray, form: HTMLFormElement, button: HTMLButtonElement): void;
  /** A message's file decrypted whole (a report's attachment); throws when damaged or not a file description. */
  decryptSent(raw: unknown): Promise<{ name: string; type: string; blob: Blob }>;
}
