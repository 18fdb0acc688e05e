/**
 * Runtime settings (docs/admin.md "Settings"): registration mode and community-creation mode,
 * set by an admin with `server_settings`, stored in instance_settings; "default" deletes the row,
 * so the environment's value applies again. Readers: src/db/runtime-settings.ts.
 */
import { deleteSetting, writeSetting } from "../../db/instance-settings.ts";
import {
  COMMUNITY_CREATION_MODE_KEY,
  communityCreationModeOf,
  noteRegistrationMode,
  readRegistrationMode,
  REGISTRATION_MODE_KEY,
  type CommunityCreationMode,
  type RegistrationMode,
} from "../../db/runtime-settings.ts";
import { readSetting } from "../../db/instance-settings.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import type { AppDeps } from "../../deps.ts";
import { insertAuditEntry, type Actor, type RequestMeta } from "../auth/index.ts";

export type RuntimeSetting<T> = { value: T; default: T; overridden: boolean };
export type RuntimeSettings = { registrationMode: RuntimeSetting<RegistrationMode>; communityCreationMode: RuntimeSetting<CommunityCreationMode> };

export async function readRuntimeSettings(deps: AppDeps, ex: Executor = deps.database.db): Promise<RuntimeSettings> {
  const [reg, comm] = await Promise.all([readSetting(ex, REGISTRATION_MODE_KEY), readSetting(ex, COMMUNITY_CREATION_MODE_KEY)]);
  const registration = await readRegistrationMode(ex, deps.config);
  noteRegistrationMode(deps, registration);
  return {
    registrationMode: { value: registration, default: deps.config.registrationMode, overridden: reg !== undefined },
    communityCreationMode: { value: await communityCreationModeOf(deps, ex), default: deps.config.communityCreationMode, overridden: comm !== undefined },
  };
}

/** `null` = back to the environment's value. Only what changes is written and audited (`instance_setting_changed`). */
export type RuntimeChange = { registrationMode?: RegistrationMode | null; communityCreationMode?: CommunityCreationMode | null };

export async function setRuntimeSettings(deps: AppDeps, actor: Actor, change: RuntimeChange, meta: RequestMeta): Promise<RuntimeSettings> {
  const now = new Date((deps.now ?? Date.now)());
  const result = await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx) => {
    const before = await readRuntimeSettings(deps, tx);
    const apply = async <T>(setting: string, key: string, current: RuntimeSetting<T>, next: T | null | undefined) => {
      if (next === undefined) return;
      const overridden = next !== null;
      const after = next ?? current.default;
      if (overridden === current.overridden && after === current.value) return;
      if (next === null) await deleteSetting(tx, key);
      else await writeSetting(tx, key, next, now);
      await insertAuditEntry(tx, { actorId: actor.userId, action: "instance_setting_changed", targetType: "setting", metadata: { setting, before: current.value, after, default: current.default, overridden }, at: now, meta });
    };
    await apply("registration_mode", REGISTRATION_MODE_KEY, before.registrationMode, change.registrationMode);
    await apply("community_creation_mode", COMMUNITY_CREATION_MODE_KEY, before.communityCreationMode, change.communityCreationMode);
    return readRuntimeSettings(deps, tx);
  });
  noteRegistrationMode(deps, result.registrationMode.value);
  return result;
}
