// <form data-confirm="Kick Bob?" data-confirm-detail="…what will happen…" data-confirm-action="Kick">:
// submitting asks first, in a modal <dialog> that names what will happen (Cancel is focused, so
// Enter on an accidental submit does nothing harmful). Works for htmx and plain POST forms alike:
// the capture listener runs before htmx's own submit handling and re-submits once confirmed.

function ask(form: HTMLFormElement, onConfirm: () => void, opener: HTMLElement | null): void {
  const dialog = document.createElement("dialog");
  dialog.className = "dialog";
  const id = `confirm-${Math.random().toString(36).slice(2)}`;
  dialog.setAttribute("aria-labelledby", id);
  dialog.setAttribute("aria-describedby", `${id}-d`);
  dialog.dataset.confirmDialog = "";
  const header = document.createElement("div");
  header.className = "dialog__header";
  const title = document.createElement("h2");
  title.className = "dialog__title";
  title.id = id;
  title.textContent = form.dataset.confirm || "Are you sure?";
  header.append(title);
  const body = document.createElement("div");
  body.className = "dialog__body";
  const detail = document.createElement("p");
  detail.id = `${id}-d`;
  detail.textContent = form.dataset.confirmDetail ?? "";
  body.append(detail);
  const footer = document.createElement("div");
  footer.className = "dialog__footer";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "btn btn--ghost";
  cancel.textContent = "Cancel";
  const go = document.createElement("button");
  go.type = "button";
  go.className = "btn btn--danger";
  go.textContent = form.dataset.confirmAction || "Confirm";
  footer.append(cancel, go);
  dialog.append(header, body, footer);
  let confirmed = false;
  cancel.addEventListener("click", () => dialog.close());
  go.addEventListener("click", () => {
    confirmed = true;
    dialog.close();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (confirmed) onConfirm();
    else opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  cancel.focus();
}

export function installConfirmForms(): void {
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.confirm === undefined) return;
      if (form.dataset.confirmed !== undefined) {
        delete form.dataset.confirmed;
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      const submitter = (event as SubmitEvent).submitter;
      ask(form, () => {
        form.dataset.confirmed = "";
        form.requestSubmit(submitter instanceof HTMLButtonElement || submitter instanceof HTMLInputElement ? submitter : null);
      }, submitter instanceof HTMLElement ? submitter : null);
    },
    true,
  );
}
