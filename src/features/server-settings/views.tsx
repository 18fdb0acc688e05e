/** /admin/settings: the runtime settings form and the effective configuration (read-only, secrets redacted). */
import type { FC } from "hono/jsx";
import { COMMUNITY_CREATION_MODES, REGISTRATION_MODES } from "../../db/runtime-settings.ts";
import { ErrorBanner, ErrorSlot } from "../../../views/index.ts";
import type { ConfigRow } from "./redact.ts";
import type { RuntimeSetting, RuntimeSettings } from "./service.ts";

const LABELS: Record<string, string> = { open: "Open: anyone may register", invite_only: "Invite only", closed: "Closed: nobody new", anyone: "Anyone signed in", admin_only: "Administrators only" };

const ModeSelect: FC<{ id: string; name: string; label: string; env: string; setting: RuntimeSetting<string>; modes: readonly string[] }> = (p) => (
  <div class="field">
    <label class="field__label" for={p.id}>
      {p.label}
    </label>
    <select class="input" id={p.id} name={p.name} aria-describedby={`${p.id}-hint`}>
      <option value="default" selected={!p.setting.overridden}>
        The environment's ({p.env}={p.setting.default})
      </option>
      {p.modes.map((m) => (
        <option value={m} selected={p.setting.overridden && p.setting.value === m}>
          {LABELS[m] ?? m}
        </option>
      ))}
    </select>
    <p class="field__hint" id={`${p.id}-hint`}>
      In effect now: <strong>{p.setting.value}</strong>
      {p.setting.overridden ? " (set here)" : " (from the environment)"}.
    </p>
  </div>
);

export const SettingsPage: FC<{ runtime: RuntimeSettings; config: ConfigRow[]; error?: string }> = (p) => (
  <div class="stack">
    <section class="card stack" aria-labelledby="runtime-h">
      <h2 id="runtime-h">Changeable here</h2>
      <p class="muted">Saved in the database and obeyed at once on every instance. The environment's value stays the default: choose it to go back.</p>
      <form method="post" action="/admin/settings" class="form" id="runtime-form">
        <ErrorSlot>{p.error ? <ErrorBanner title="Not saved" message={p.error} /> : null}</ErrorSlot>
        <ModeSelect id="set-registration" name="registration_mode" label="Who may register" env="REGISTRATION_MODE" setting={p.runtime.registrationMode} modes={REGISTRATION_MODES} />
        <ModeSelect id="set-community" name="community_creation_mode" label="Who may create communities" env="COMMUNITY_CREATION_MODE" setting={p.runtime.communityCreationMode} modes={COMMUNITY_CREATION_MODES} />
        <div class="form__actions">
          <button type="submit" class="btn btn--primary">
            Save
          </button>
        </div>
      </form>
    </section>
    <section class="panel" aria-labelledby="config-h">
      <div class="panel__header">
        <h2 class="panel__title" id="config-h">
          Effective configuration
        </h2>
      </div>
      <p class="muted panel__empty">Read from the environment at start-up; change it there and restart. Secrets are never shown, only whether they are set.</p>
      <div class="table-scroll">
        <table class="config-table">
          <caption class="visually-hidden">Configuration values</caption>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {p.config.map((row) => (
              <tr>
                <th scope="row">
                  <code>{row.name}</code>
                </th>
                <td>
                  <code>{row.value}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  </div>
);
