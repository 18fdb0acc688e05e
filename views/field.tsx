// One labelled form control with hint and inline error. The error and hint are linked via
// aria-describedby and the control gets aria-invalid, so screen readers announce both and
// the client glue can focus the first invalid control after an error fragment swaps in.
import type { FC } from "hono/jsx";

export type FieldType =
  | "text"
  | "email"
  | "password"
  | "search"
  | "url"
  | "tel"
  | "date"
  | "number"
  | "textarea";

export type FieldProps = {
  name: string;
  label: string;
  type?: FieldType;
  /** Defaults to `f-<name>`; pass one when a page has two forms with the same field name. */
  id?: string;
  value?: string;
  placeholder?: string;
  autocomplete?: string;
  inputmode?: "text" | "email" | "numeric" | "decimal" | "tel" | "url" | "search" | "none";
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  /** For type="number". */
  min?: number;
  max?: number;
  pattern?: string;
  autofocus?: boolean;
  disabled?: boolean;
  readonly?: boolean;
  /** textarea rows */
  rows?: number;
  hint?: string;
  /** Inline error; when set the control is marked invalid. */
  error?: string | null;
  /** Visually hide the label (still read by screen readers), e.g. a search box with an icon. */
  hideLabel?: boolean;
};

export const Field: FC<FieldProps> = (p) => {
  const id = p.id ?? `f-${p.name}`;
  const hintId = p.hint ? `${id}-hint` : undefined;
  const errorId = p.error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name: p.name,
    class: p.type === "textarea" ? "textarea" : "input",
    placeholder: p.placeholder,
    autocomplete: p.autocomplete,
    required: p.required,
    minlength: p.minLength,
    maxlength: p.maxLength,
    autofocus: p.autofocus,
    disabled: p.disabled,
    readonly: p.readonly,
    "aria-invalid": p.error ? "true" : undefined,
    "aria-describedby": describedBy,
  };
  return (
    <div class={p.error ? "field field--invalid" : "field"}>
      <label class={p.hideLabel ? "field__label visually-hidden" : "field__label"} for={id}>
        {p.label}
        {p.required ? null : <span class="field__optional"> (optional)</span>}
      </label>
      {p.type === "textarea" ? (
        <textarea {...common} rows={p.rows ?? 4}>
          {p.value ?? ""}
        </textarea>
      ) : (
        <input
          {...common}
          type={p.type ?? "text"}
          value={p.type === "password" ? undefined : p.value}
          inputmode={p.inputmode}
          min={p.min}
          max={p.max}
          pattern={p.pattern}
        />
      )}
      {p.error ? (
        <p class="field__error" id={errorId}>
          <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false">
            <path d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm-.9 4h1.8v5.2H9.1V6Zm0 6.8h1.8v1.8H9.1v-1.8Z" />
          </svg>
          <span>{p.error}</span>
        </p>
      ) : null}
      {p.hint ? (
        <p class="field__hint" id={hintId}>
          {p.hint}
        </p>
      ) : null}
    </div>
  );
};

export type CheckboxFieldProps = {
  name: string;
  label: string;
  id?: string;
  value?: string;
  checked?: boolean;
  disabled?: boolean;
  hint?: string;
  error?: string | null;
};

/** A checkbox with its label to the right; hint and error wired like Field. */
export const CheckboxField: FC<CheckboxFieldProps> = (p) => {
  const id = p.id ?? `f-${p.name}`;
  const hintId = p.hint ? `${id}-hint` : undefined;
  const errorId = p.error ? `${id}-error` : undefined;
  return (
    <div class={p.error ? "field field--invalid" : "field"}>
      <label class="checkbox" for={id}>
        <input
          type="checkbox"
          id={id}
          name={p.name}
          value={p.value ?? "on"}
          checked={p.checked}
          disabled={p.disabled}
          aria-invalid={p.error ? "true" : undefined}
          aria-describedby={[errorId, hintId].filter(Boolean).join(" ") || undefined}
        />
        <span>
          {p.label}
          {p.hint ? (
            <span class="checkbox__hint" id={hintId}>
              {p.hint}
            </span>
          ) : null}
        </span>
      </label>
      {p.error ? (
        <p class="field__error" id={errorId}>
          <span>{p.error}</span>
        </p>
      ) : null}
    </div>
  );
};

export type SelectFieldProps = {
  name: string;
  label: string;
  options: { value: string; label: string }[];
  id?: string;
  value?: string;
  required?: boolean;
  disabled?: boolean;
  hint?: string;
  error?: string | null;
};

export const SelectField: FC<SelectFieldProps> = (p) => {
  const id = p.id ?? `f-${p.name}`;
  const hintId = p.hint ? `${id}-hint` : undefined;
  const errorId = p.error ? `${id}-error` : undefined;
  return (
    <div class={p.error ? "field field--invalid" : "field"}>
      <label class="field__label" for={id}>
        {p.label}
      </label>
      <select
        id={id}
        name={p.name}
        class="select"
        required={p.required}
        disabled={p.disabled}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={[errorId, hintId].filter(Boolean).join(" ") || undefined}
      >
        {p.options.map((o) => (
          <option value={o.value} selected={o.value === p.value}>
            {o.label}
          </option>
        ))}
      </select>
      {p.error ? (
        <p class="field__error" id={errorId}>
          <span>{p.error}</span>
        </p>
      ) : null}
      {p.hint ? (
        <p class="field__hint" id={hintId}>
          {p.hint}
        </p>
      ) : null}
    </div>
  );
};
