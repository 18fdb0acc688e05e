// The main composer of a conversation: drafts (this tab only), Enter to send, typing signals,
// and the "Replying to …" bar (Escape cancels it); attached files (files-hook.ts: the tray lives in
// the lazily loaded files UI) go with the next send. Sending itself is the controller's.
import type { Attached, FilesModule, FilesTray } from "./files-types.ts";
import { loadFilesUi, wireAttach } from "./files-hook.ts";

const TYPING_THROTTLE_MS = 3_000;

export interface ComposerUi {
  form: HTMLFormElement | null;
  input: HTMLTextAreaElement | null;
  canSend: boolean;
  reply: HTMLElement;
}

export class ComposerBinding {
  /** The message the next send replies to (reply_to_id), if any. */
  replyTo: string | null = null;
  private lastTypingSent = 0;
  /** The files tray, once something was attached. */
  private tray: Promise<FilesTray> | null = null;
  private trayNow: FilesTray | null = null;

  constructor(
    private readonly ui: ComposerUi,
    private readonly channelId: string,
    private readonly sendTyping: (channelId: string, stop?: boolean) => void,
    private readonly submitText: (text: string, replyTo: string | null, files?: Attached) => void,
  ) {}

  dispose(): void {
    void this.tray?.then((t) => t.dispose());
  }

  private draftKey(): string {
    return `hearth.draft.${this.channelId}`;
  }

  /** The "Replying to <name>" line above the composer, with its cancel button. */
  setReply(messageId: string | null, authorName?: string): void {
    this.replyTo = messageId;
    const bar = this.ui.reply;
    bar.replaceChildren();
    bar.hidden = messageId === null;
    if (!messageId) return;
    const label = document.createElement("span");
    label.textContent = `Replying to ${authorName ?? "a message"}`;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn--ghost btn--sm";
    cancel.textContent = "Cancel reply";
    cancel.addEventListener("click", () => {
      this.setReply(null);
      this.ui.input?.focus();
    });
    bar.append(label, cancel);
    this.ui.input?.focus();
  }

  wire(): void {
    const { form, input } = this.ui;
    if (!form || !input || !this.ui.canSend) return;
    // Drafts stay in this tab (sessionStorage), never on the server (docs/crypto.md).
    input.value = sessionStorage.getItem(this.draftKey()) ?? "";
    input.disabled = false;
    form.querySelector<HTMLButtonElement>(".composer__send")!.disabled = false;
    const withTray = (use: (t: FilesTray, m: FilesModule) => void) => {
      const load = loadFilesUi();
      this.tray ??= load.then((m) => (this.trayNow = m.createTray({ channelId: this.channelId, form, notify: (detail) => document.dispatchEvent(new CustomEvent("chat:notice", { detail })) })));
      Promise.all([this.tray, load]).then(([t, m]) => use(t, m), (error: Error) => {
        this.tray = null;
        document.dispatchEvent(new CustomEvent("chat:error", { detail: `Files could not load: ${error.message}` }));
      });
    };
    wireAttach(form, input, (files) => withTray((t) => t.add(files)), (button) => withTray((t, m) => m.recordVoice(t, form, button)));
    // Link previews (docs/integrations.md): their code loads with the first link typed.
    let preview: { take(text: string): unknown } | null = null;
    input.addEventListener("input", () => {
      if (!preview && /https?:\/\/\S/.test(input.value)) void import("./link-preview.ts").then((m) => (preview ??= m.watchComposer(form, input)));
    });
    // GIFs (docs/integrations.md): the button exists only when GIF search is configured; the
    // picker is its own chunk. The chosen GIF travels as the message's encrypted `preview`.
    const gif = form.querySelector<HTMLButtonElement>(".composer__gif");
    if (gif) {
      gif.disabled = false;
      gif.addEventListener("click", () =>
        void import("./gif-picker.ts").then(
          (m) => m.openGifPicker(form, gif, (g) => this.submitText("", this.replyTo, { files: [], ids: [], preview: g }), () => this.setReply(null)),
          () => document.dispatchEvent(new CustomEvent("chat:error", { detail: "GIFs could not load." })),
        ),
      );
    }
    const submit = () => {
      const text = input.value.trim();
      let files = this.trayNow?.take() ?? null;
      const card = preview?.take(text);
      if (card && typeof files !== "string") files = { files: files?.files ?? [], ids: files?.ids ?? [], preview: card };
      if (typeof files === "string") return void document.dispatchEvent(new CustomEvent("chat:notice", { detail: files }));
      if (!text && !files) return;
      input.value = "";
      sessionStorage.removeItem(this.draftKey());
      if (this.lastTypingSent) this.sendTyping(this.channelId, true);
      this.lastTypingSent = 0;
      const replyTo = this.replyTo;
      this.setReply(null);
      this.submitText(text, replyTo, files ?? undefined);
    };
    submitOnEnter(form, input, submit, () => {
      if (!this.replyTo) return false;
      this.setReply(null);
      return true;
    });
    input.addEventListener("input", () => {
      if (input.value) sessionStorage.setItem(this.draftKey(), input.value);
      else sessionStorage.removeItem(this.draftKey());
      const now = Date.now();
      if (input.value && now - this.lastTypingSent > TYPING_THROTTLE_MS) {
        this.lastTypingSent = now;
        this.sendTyping(this.channelId);
      }
    });
  }
}

/**
 * The composers' keys (main and thread): Enter sends, Shift+Enter is a newline, nothing is sent
 * mid-IME composition; the form's submit (the Send button) sends too. `onEscape` returns true
 * when it handled Escape.
 */
export function submitOnEnter(form: HTMLFormElement, input: HTMLTextAreaElement, submit: () => void, onEscape?: () => boolean): void {
  const send = () => {
    form.parentElement?.querySelector("[data-paste-notice]")?.remove();
    submit();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && onEscape?.()) event.preventDefault();
    else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  // The browser cuts a paste at maxlength without a word: say so at the composer.
  input.addEventListener("paste", (event) => {
    const max = input.maxLength;
    const cut = (event.clipboardData?.getData("text").length ?? 0) - (max - input.value.length + input.selectionEnd - input.selectionStart);
    if (max <= 0 || cut <= 0) return;
    composerNotice(form, `Pasted text was cut: a message holds ${max.toLocaleString("en")} characters, so the last ${cut.toLocaleString("en")} were left out.`);
  });
}

/** A warning right above the composer (the paste cut, a refused @everyone); the next send clears it. */
export function composerNotice(form: HTMLFormElement, text: string): void {
  let note = form.parentElement?.querySelector<HTMLElement>("[data-paste-notice]");
  if (!note) {
    note = document.createElement("p");
    note.className = "composer-notice composer-notice--warn";
    note.dataset.pasteNotice = "";
    note.setAttribute("role", "status");
    form.before(note);
  }
  note.textContent = text;
}
