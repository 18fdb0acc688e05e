// What chat.js hands the search bundle (search-hook.ts) and what it gets back.
import type { ChatMessage } from "../chat/types.ts";
import type { SidePanel } from "../chat/side-panel.ts";

export interface SearchHost {
  selfId: string;
  /** The page's JSON API (cookies, CSRF): history pages and the channel list. */
  call<T>(method: string, path: string): Promise<T>;
  /** Decrypts with keys this device holds (no key requests); null where it holds none. */
  decrypt(messages: ChatMessage[]): Promise<Array<{ text: string; files?: unknown[] } | null>>;
  normalise(raw: unknown): ChatMessage | null;
  openPanel(kind: string, title: string, opener: HTMLElement | null, onClose: () => void): SidePanel;
  /** The conversation on screen (its id), or "". */
  channelId(): string;
  /** Opens a result in context: this page when it shows that channel, else navigates. */
  show(channelId: string, messageId: string, url: string): void;
}

export interface SearchModule {
  start(host: SearchHost): void;
  note(message: ChatMessage, text: string, files?: unknown[]): void;
  onFrame(frame: { type: string }): void;
}
