// Test entry bundled for the browser: exposes the message renderer to the page under test.
import { parseMarkdown } from "../../../src/client/messages/markdown.ts";
import { renderBlocks } from "../../../src/client/messages/render-dom.ts";

declare global {
  interface Window {
    renderMessageInto(id: string, text: string, self?: string, mentionAll?: string | null): void;
  }
}

window.renderMessageInto = (id, text, self, mentionAll) => {
  const target = document.getElementById(id)!;
  target.replaceChildren(renderBlocks(document, parseMarkdown(text), { selfUsername: self, isKnownUser: (n) => n !== "ghost", mentionAll }));
};
