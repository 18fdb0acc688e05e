// The shell shared by the thread panel and the pin list: a labelled dialog at the right of the
// chat frame (full width at 360 px). One at a time; Escape or the close button closes it and
// focus returns to the button that opened it; Tab stays inside while it is open.

export interface SidePanel {
  readonly root: HTMLElement;
  readonly body: HTMLElement;
  readonly footer: HTMLElement;
  setTitle(text: string): void;
  /** returnFocus false: the caller moves focus itself (e.g. to the message it jumped to). */
  close(returnFocus?: boolean): void;
  readonly closed: boolean;
}

let open: (SidePanel & { kind: string }) | null = null;

const FOCUSABLE = 'a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function openPanelKind(): string | null {
  return open && !open.closed ? open.kind : null;
}

export function closeSidePanel(): void {
  open?.close();
}

/** Opens a panel (closing any other). `onClose` runs once, after it left the page. */
export function openSidePanel(kind: string, title: string, opener: HTMLElement | null, onClose: () => void): SidePanel {
  open?.close();
  const host = document.querySelector<HTMLElement>("[data-app-frame]") ?? document.body;
  const root = document.createElement("section");
  root.className = `side-panel side-panel--${kind}`;
  root.setAttribute("role", "dialog");
  root.setAttribute("aria-modal", "true");
  const titleId = `side-panel-title-${kind}`;
  root.setAttribute("aria-labelledby", titleId);
  const header = document.createElement("header");
  header.className = "side-panel__header";
  const h = document.createElement("h2");
  h.className = "side-panel__title";
  h.id = titleId;
  h.textContent = title;
  const closeButton = document.createElement("button");
  closeButton.type = "button";
  closeButton.className = "btn btn--ghost btn--sm side-panel__close";
  closeButton.textContent = "Close";
  closeButton.setAttribute("aria-label", `Close ${title.toLowerCase()}`);
  header.append(h, closeButton);
  const body = document.createElement("div");
  body.className = "side-panel__body";
  const footer = document.createElement("div");
  footer.className = "side-panel__footer";
  root.append(header, body, footer);

  let closed = false;
  const close = (returnFocus = true) => {
    if (closed) return;
    closed = true;
    root.remove();
    if (open === panel) open = null;
    onClose();
    if (returnFocus && opener?.isConnected) opener.focus();
  };
  closeButton.addEventListener("click", () => close());
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === "Tab") {
      const items = [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null || x === document.activeElement);
      if (items.length === 0) return;
      const first = items[0]!;
      const last = items[items.length - 1]!;
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  const panel = {
    kind,
    root,
    body,
    footer,
    setTitle: (text: string) => {
      h.textContent = text;
      closeButton.setAttribute("aria-label", `Close ${text.toLowerCase()}`);
    },
    close,
    get closed() {
      return closed;
    },
  };
  open = panel;
  host.append(root);
  closeButton.focus();
  return panel;
}
