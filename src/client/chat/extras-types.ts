// What chat.js hands to the lazily loaded extras chunk (extras-ui.ts). Types only: the chunk
// receives the engine and helpers as values, so no module is shared between the two bundles.
import type { callApi } from "./api.ts";
import type { FilesModule } from "./files-types.ts";
import type * as TextLimits from "../../shared/text-limits.ts";
import type { ChatEngine } from "./engine.ts";
import type { Entry } from "./channel-base.ts";
import type { ChatMessage, normaliseMessage, Scheme } from "./types.ts";

export interface ExtrasContext {
  engine: ChatEngine;
  /** shared/text-limits.ts as a value: a module both bundles imported would split off a third chunk. */
  limits: typeof TextLimits;
  channelId: string;
  scheme: Scheme;
  selfId: string;
  /** Encrypts for the conversation's readers of now (sender.ts withCurrentReaders; polls, scheduled messages); `maxChars` as in ChatEngine.encrypt. */
  encryptForReaders(text: string, maxChars?: number): Promise<{ ciphertext: string; remember: (name: string) => Promise<void> }>;
  names: ReadonlyMap<string, string>;
  call: typeof callApi;
  normalise: typeof normaliseMessage;
  /** The conversation pane (.pane): the polls strip goes above its scroller. */
  pane: HTMLElement;
  scroller: HTMLElement;
  form: HTMLFormElement | null;
  input: HTMLTextAreaElement | null;
  canSend: boolean;
  /** The page says the viewer may manage messages (moderators may close others' polls). */
  moderate: boolean;
  notify(text: string): void;
  /** Forward (forward-ui.ts): encrypts `text` for another conversation's readers and sends it, marked forwarded from `from`. */
  forwardTo(channelId: string, scheme: Scheme, text: string, from: string): Promise<void>;
}

export interface ExtrasApi {
  openReactionPicker(trigger: HTMLElement, react: (emoji: string) => Promise<void>): void;
  openBookmarkDialog(messageId: string, trigger: HTMLElement): void;
  /** report-message.ts: false when the page has no report dialog. */
  /** `files`: the message's decrypted file descriptions, offered for the report; decrypted by the files bundle (`loadFilesUi`). */
  openReportMessage(messageId: string, author: string, text: string | undefined, opener: HTMLElement, files?: readonly unknown[], loadFilesUi?: () => Promise<FilesModule>): boolean;
  confirmDeleteMessage(opener: HTMLElement): Promise<boolean>;
  /** "(edited)": the message's earlier versions, decrypted here (history-ui.ts). */
  openEditHistory(message: ChatMessage, entry: Entry | undefined, opener: HTMLElement): void;
  /** "Forward": pick a conversation and send the text there (forward-ui.ts). */
  openForward(text: string | undefined, entry: Entry | undefined, opener: HTMLElement): void;
  onPollUpdated(frame: Record<string, unknown>): void;
  /** Keys arrived: retry polls that were waiting for them. */
  retryWaiting(): Promise<void>;
  dispose(): void;
}
