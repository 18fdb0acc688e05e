// chat.js's side of search (docs/search.md), kept tiny: the index, backfill and search panel are
// their own bundle, chat-search.js (src/client/search), imported once a chat page is up. Texts
// this page decrypts before it loads wait here (a bounded list).
import type { SearchHost, SearchModule } from "../search/types.ts";
import type { ChatMessage } from "./types.ts";

/** The built name of chat-search.js, set by scripts/build.ts (`define`); absent under bun test. */
declare const HEARTH_SEARCH_CHUNK: string | undefined;

let loading: Promise<SearchModule> | null = null;
let loaded: SearchModule | null = null;
const early: Array<[ChatMessage, string, unknown[] | undefined]> = [];

export function loadSearch(host: SearchHost): Promise<SearchModule> {
  const name = typeof HEARTH_SEARCH_CHUNK === "string" ? HEARTH_SEARCH_CHUNK : "chat-search.js";
  loading ??= (import(new URL(name, import.meta.url).href) as Promise<SearchModule>).catch((error) => {
    loading = null;
    throw error;
  });
  return loading.then((m) => {
    m.start(host);
    loaded = m;
    for (const [msg, text, files] of early.splice(0)) m.note(msg, text, files);
    return m;
  });
}

/** A message this page decrypted: into the local index. */
export function noteDecrypted(message: ChatMessage, text: string, files?: unknown[]): void {
  if (loaded) loaded.note(message, text, files);
  else if (early.length < 1000) early.push([message, text, files]);
}

/** Live frames the index follows (deletions, lost access). */
export const searchFrame = (frame: { type: string }): void => void loaded?.onFrame(frame);
