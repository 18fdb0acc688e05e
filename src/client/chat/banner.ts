// The E2EE banner above the messages: a new device of a user with other devices is asked for the
// recovery key (restores history keys from the key backup); a device without a backup is offered
// one, with the recovery key shown once. Plain DOM, keyboard reachable, wraps at 360 px.

import type { ChatEngine } from "./engine.ts";
import { h as el } from "./ui-kit.ts";

const DISMISS_KEY = "hearth.e2ee-banner-dismissed";

export async function mountBanner(host: HTMLElement, engine: ChatEngine, onRestored: () => void): Promise<void> {
  const hasKey = await engine.hasBackupKey();
  if (hasKey || sessionStorage.getItem(DISMISS_KEY)) return;
  const banner = el("section", "e2ee-banner");
  banner.setAttribute("aria-label", "Encryption keys");
  banner.dataset.e2eeBanner = "";
  const dismiss = el("button", "btn btn--ghost btn--sm", "Not now");
  dismiss.type = "button";
  dismiss.addEventListener("click", () => {
    sessionStorage.setItem(DISMISS_KEY, "1");
    banner.remove();
  });

  if (engine.needsRestore) {
    banner.append(el("p", "e2ee-banner__title", "Encrypted history needs your recovery key"));
    banner.append(el("p", "e2ee-banner__text", "This is a new device. New messages work now; to read older messages, enter the recovery key you saved when you created your key backup."));
    const form = el("form", "e2ee-banner__form");
    const label = el("label", "visually-hidden", "Recovery key");
    label.htmlFor = "recovery-key-input";
    const input = el("input", "input");
    input.id = "recovery-key-input";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "XXXX-XXXX-…";
    const submit = el("button", "btn btn--primary btn--sm", "Restore history");
    submit.type = "submit";
    const status = el("p", "e2ee-banner__status");
    status.setAttribute("role", "status");
    form.append(label, input, submit, dismiss);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      status.textContent = "Restoring…";
      try {
        const { messageKeys } = await engine.restoreFromBackup(input.value);
        status.textContent = `Restored keys for ${messageKeys} messages.`;
        onRestored();
        setTimeout(() => banner.remove(), 4000);
      } catch (error) {
        const code = (error as { code?: string }).code;
        status.textContent = code === "DECRYPT_FAILED" ? "That recovery key does not open your backup." : code === "INVALID_RECOVERY_KEY" ? (error as Error).message : "No key backup could be restored.";
        submit.disabled = false;
        input.focus();
      }
    });
    banner.append(form, status);
  } else {
    banner.append(el("p", "e2ee-banner__title", "Keep your message history safe"));
    banner.append(el("p", "e2ee-banner__text", "Create an encrypted key backup. You get a recovery key, shown once: without it, no one (not even the server admin) can restore your history on a new device."));
    const create = el("button", "btn btn--primary btn--sm", "Create key backup");
    create.type = "button";
    const row = el("div", "btn-row");
    row.append(create, dismiss);
    banner.append(row);
    create.addEventListener("click", async () => {
      create.disabled = true;
      try {
        const key = await engine.createBackup();
        row.remove();
        banner.querySelector(".e2ee-banner__text")!.textContent = "Your recovery key. Write it down or store it in a password manager now: it is shown only this once.";
        const code = el("code", "e2ee-banner__key", key);
        code.tabIndex = 0;
        const done = el("button", "btn btn--secondary btn--sm", "I saved it");
        done.type = "button";
        done.addEventListener("click", () => banner.remove());
        banner.append(code, done);
        code.focus();
      } catch (error) {
        create.disabled = false;
        banner.append(el("p", "e2ee-banner__status", `The backup failed: ${(error as Error).message}`));
      }
    });
  }
  host.prepend(banner);
}
