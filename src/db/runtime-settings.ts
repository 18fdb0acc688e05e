/**
 * Registration mode and community-creation mode as admins set them at runtime (docs/admin.md
 * "Settings"): a value stored in instance_settings wins over the environment's
 * (REGISTRATION_MODE, COMMUNITY_CREATION_MODE), which stays the default. Registration, SSO
 * provisioning and community creation read the effective value here on every use, inside their
 * transaction when they have one, so a change made on any instance applies at once everywhere.
 *
 * `lastKnown…` is for the one synchronous reader (the sign-in page's "Register" link): the value
 * this process read or wrote last, the environment's before that.
 */
import type { Config } from "../config.ts";
import type { Db } from "./open.ts";
import { readSetting } from "./instance-settings.ts";
import type { Executor } from "./tx.ts";

export type RegistrationMode = Config["registrationMode"];
export type CommunityCreationMode = Config["communityCreationMode"];
export const REGISTRATION_MODES: readonly RegistrationMode[] = ["open", "invite_only", "closed"];
export const COMMUNITY_CREATION_MODES: readonly CommunityCreationMode[] = ["anyone", "admin_only"];
export const REGISTRATION_MODE_KEY = "runtime:registration_mode";
export const COMMUNITY_CREATION_MODE_KEY = "runtime:community_creation_mode";

type Holder = { database: { db: Db }; config: Config };
const lastKnown = new WeakMap<object, { registration?: RegistrationMode }>();

/** The effective mode read through `ex` (a transaction's own view when given one). */
export async function readRegistrationMode(ex: Executor, config: Config): Promise<RegistrationMode> {
  const row = await readSetting<unknown>(ex, REGISTRATION_MODE_KEY);
  return REGISTRATION_MODES.includes(row?.value as RegistrationMode) ? (row!.value as RegistrationMode) : config.registrationMode;
}

export async function registrationModeOf(deps: Holder, ex: Executor = deps.database.db): Promise<RegistrationMode> {
  const mode = await readRegistrationMode(ex, deps.config);
  noteRegistrationMode(deps, mode);
  return mode;
}

export function noteRegistrationMode(deps: Holder, mode: RegistrationMode): void {
  const entry = lastKnown.get(deps.database) ?? {};
  entry.registration = mode;
  lastKnown.set(deps.database, entry);
}

export function lastKnownRegistrationMode(deps: Holder): RegistrationMode {
  return lastKnown.get(deps.database)?.registration ?? deps.config.registrationMode;
}

export async function communityCreationModeOf(deps: Holder, ex: Executor = deps.database.db): Promise<CommunityCreationMode> {
  const row = await readSetting<unknown>(ex, COMMUNITY_CREATION_MODE_KEY);
  return COMMUNITY_CREATION_MODES.includes(row?.value as CommunityCreationMode) ? (row!.value as CommunityCreationMode) : deps.config.communityCreationMode;
}
