// Small DOM helpers of the extras chunk: modal dialogs (native <dialog>: focus stays inside,
// Escape closes, focus returns to the opener) and form fields with their error line.

// The lazy chunk keeps its own copy of dom.ts's `el`: importing dom.ts here would make Bun split
// it into a third, 214-byte chunk fetched on every chat page.
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

export function button(text: string, cls = "btn btn--secondary btn--sm", type: "button" | "submit" = "button"): HTMLButtonElement {
  const b = h("button", cls, text);
  b.type = type;
  return b;
}

let seq = 0;
export function uid(prefix: string): string {
  return `${prefix}-${++seq}`;
}

export interface Dialog {
  dialog: HTMLDialogElement;
  body: HTMLElement;
  footer: HTMLElement;
  close(): void;
}

/** A modal dialog titled `title`; removed from the page when closed, focus back on `opener`. */
export function openDialog(title: string, opener: HTMLElement | null, opts: { form?: boolean; wide?: boolean } = {}): Dialog & { form: HTMLFormElement | null } {
  const dialog = h("dialog", opts.wide ? "dialog dialog--wide" : "dialog");
  const titleId = uid("dlg");
  dialog.setAttribute("aria-labelledby", titleId);
  const container: HTMLElement = opts.form ? h("form") : h("div");
  if (opts.form) (container as HTMLFormElement).noValidate = true;
  const header = h("div", "dialog__header");
  const heading = h("h2", "dialog__title", title);
  heading.id = titleId;
  const x = button("Close", "btn btn--ghost btn--sm");
  x.setAttribute("aria-label", `Close: ${title}`);
  header.append(heading, x);
  const body = h("div", "dialog__body");
  const footer = h("div", "dialog__footer");
  container.append(header, body, footer);
  dialog.append(container);
  const close = () => dialog.close();
  x.addEventListener("click", close);
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, footer, close, form: opts.form ? (container as HTMLFormElement) : null };
}

export interface Field<T extends HTMLElement> {
  wrap: HTMLElement;
  control: T;
  setError(message: string | null): void;
}

/** label + control + hint + error line (aria-describedby, aria-invalid). */
export function field<T extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(label: string, control: T, hint?: string): Field<T> {
  const wrap = h("div", "field");
  const id = control.id || uid("f");
  control.id = id;
  const lab = h("label", "field__label", label);
  lab.htmlFor = id;
  wrap.append(lab, control);
  const described: string[] = [];
  if (hint) {
    const hintEl = h("p", "field__hint", hint);
    hintEl.id = `${id}-hint`;
    described.push(hintEl.id);
    wrap.append(hintEl);
  }
  const error = h("p", "field__error");
  error.id = `${id}-error`;
  error.hidden = true;
  wrap.append(error);
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  // An error goes away as soon as the user changes the field.
  control.addEventListener("input", () => {
    if (!error.hidden) api.setError(null);
  });
  const api: Field<T> = {
    wrap,
    control,
    setError(message) {
      error.textContent = message ?? "";
      error.hidden = !message;
      if (message) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", [...described, error.id].join(" "));
      } else {
        control.removeAttribute("aria-invalid");
        if (described.length) control.setAttribute("aria-describedby", described.join(" "));
        else control.removeAttribute("aria-describedby");
      }
    },
  };
  return api;
}

/** An error line for the whole form (role=alert), e.g. above the footer buttons. */
export function formError(): { el: HTMLElement; set(message: string | null): void } {
  const el = h("p", "field__error dialog__error");
  el.setAttribute("role", "alert");
  el.hidden = true;
  return { el, set: (m) => { el.textContent = m ?? ""; el.hidden = !m; } };
}

/** `datetime-local` value for a Date in local time. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatWhen(iso: string | Date): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export const b64u = {
  encode(bytes: Uint8Array): string {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
  decode(text: string): Uint8Array {
    const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  },
};

/** JSON wrapped as base64url (the server accepts only base64url ciphertext fields). */
export function wrapJson(value: unknown): string {
  return b64u.encode(new TextEncoder().encode(JSON.stringify(value)));
}
export function unwrapJson<T>(text: string): T {
  return JSON.parse(new TextDecoder().decode(b64u.decode(text))) as T;
}

export type RemovableList = {
  list: HTMLUListElement;
  /** `button` removes `li` once `remove()` resolved; focus goes to a neighbour's button, or Done. */
  removable(li: HTMLElement, button: HTMLButtonElement, remove: () => Promise<unknown>): void;
};

/**
 * A wide dialog listing items with a Remove/Cancel button each (bookmarks, scheduled messages):
 * `fill` loads and adds the items while the list is busy; failures show in the dialog.
 */
export async function openRemovableList(title: string, opener: HTMLElement, fill: (l: RemovableList) => Promise<void>): Promise<void> {
  const d = openDialog(title, opener, { wide: true });
  const list = h("ul", "side-list");
  const error = formError();
  const done = button("Done", "btn btn--secondary");
  done.addEventListener("click", d.close);
  d.body.append(list, error.el);
  d.footer.append(done);
  list.setAttribute("aria-busy", "true");
  const removable: RemovableList["removable"] = (li, btn, remove) => {
    btn.addEventListener("click", () => {
      void remove().then(() => {
        const next = (li.nextElementSibling ?? li.previousElementSibling)?.querySelector("button");
        li.remove();
        (next ?? done).focus();
      }, (e: Error) => error.set(e.message));
    });
  };
  try {
    await fill({ list, removable });
  } catch (e) {
    error.set((e as Error).message);
  } finally {
    list.removeAttribute("aria-busy");
  }
}
