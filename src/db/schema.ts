/**
 * Row types of every table, as Kysely sees them. Kept by hand next to the migrations: when a
 * migration adds or changes a table, change its interface here in the same commit
 * (test/db/migrations.test.ts checks that every table and column declared here exists).
 * Row types stay inside queries.ts/access.ts files; services and views get domain objects.
 */
import type { ColumnType, Generated } from "kysely";

export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type Json<T = unknown> = ColumnType<T, string, string>;

export interface SchemaMigrationsTable {
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface InstanceSettingsTable {
  key: string;
  value: Json;
  updated_at: Generated<Date>;
}

export interface UsersTable {
  id: string;
  username: string;
  email: string;
  password_hash: string | null;
  display_name: string;
  custom_status: string | null;
  bio: string | null;
  pronouns: string | null;
  is_owner: Generated<boolean>;
  is_admin: Generated<boolean>;
  admin_powers: Generated<string[]>;
  suspended_at: Timestamp | null;
  suspended_reason: string | null;
  totp_secret_enc: string | null;
  totp_enabled: Generated<boolean>;
  totp_last_step: number | null;
  totp_backup_code_hashes: Generated<string[]>;
  recovery_code_hash: string | null;
  allow_dms_from_anyone: Generated<boolean>;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  device_name: string;
  ip: string;
  created_at: Timestamp;
  last_used_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: Timestamp | null;
}

export interface LoginAttemptsTable {
  key: string;
  failures: Generated<number>;
  last_failure_at: Timestamp | null;
  locked_until: Timestamp | null;
}

export interface RegistrationInvitesTable {
  id: string;
  code: string;
  created_by: string | null;
  max_uses: number | null;
  uses: Generated<number>;
  expires_at: Timestamp | null;
  created_at: Timestamp;
}

export interface AuditLogTable {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  metadata: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
}

/** Public keys of one device (features/keys). Byte columns are raw bytes, never base64. */
export interface KeyDevicesTable {
  user_id: string;
  device_id: string;
  signing_key: Uint8Array;
  identity_key: Uint8Array;
  signed_prekey_id: number;
  signed_prekey: Uint8Array;
  signed_prekey_signature: Uint8Array;
  signed_prekey_updated_at: Timestamp;
  created_at: Timestamp;
}

export interface KeyOneTimePrekeysTable {
  user_id: string;
  device_id: string;
  prekey_id: number;
  public_key: Uint8Array;
  created_at: Timestamp;
}

export interface KeyBackupsTable {
  user_id: string;
  version: number;
  salt: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  updated_at: Timestamp;
}

export interface DB {
  schema_migrations: SchemaMigrationsTable;
  instance_settings: InstanceSettingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  login_attempts: LoginAttemptsTable;
  registration_invites: RegistrationInvitesTable;
  audit_log: AuditLogTable;
  key_devices: KeyDevicesTable;
  key_one_time_prekeys: KeyOneTimePrekeysTable;
  key_backups: KeyBackupsTable;
}
