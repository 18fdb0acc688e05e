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
  /** Optional (migration 0024): null when the user gave none. */
  email: string | null;
  email_verified_at: Generated<Date | null>;
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
  /** migrations/0006_presence.sql: publish read:receipt when this user reads. */
  read_receipts: Generated<boolean>;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  /** migrations/0028: the public (not E2EE) avatar, an images row. */
  avatar_image_id: string | null;
  /** migrations/0009: failed credential checks since the last sign-in (shown at the next one). */
  failed_attempts_since_login: Generated<number>;
  last_failed_attempt_at: Timestamp | null;
  /** Migration 0030: the composer may ask the server for link previews (docs/integrations.md). */
  link_previews: Generated<boolean>;
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
  /** migrations/0009: thumbprint of the JWT key that issued the session (null = before 0009). */
  key_id: string | null;
  /** migrations/0027: when the password (and TOTP) was entered again on this session (admin export/wipe). */
  reauthenticated_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** migrations/0017: personal access tokens; each acts through its own session row (key_id 'token'). */
export interface AccessTokensTable {
  id: string;
  user_id: string;
  session_id: string;
  name: string;
  scope: "read" | "write";
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
}

/** migrations/0020: one-time password-reset links an admin hands over (SHA-256 of the secret only). */
export interface AnnouncementsTable {
  id: string;
  body: string;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at: Timestamp | null;
}

export interface AnnouncementDismissalsTable {
  announcement_id: string;
  user_id: string;
  dismissed_at: Timestamp;
}

export interface PasswordResetLinksTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
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
  /** Place in the hash chain; null until the sealer reaches the row (features/audit). */
  chain_pos: ColumnType<string | null, never, string>;
  prev_hash: ColumnType<Uint8Array | null, never, Uint8Array>;
  hash: ColumnType<Uint8Array | null, never, Uint8Array>;
}

export interface AuditChainTable {
  id: number;
  head_pos: ColumnType<string, string | number, string | number>;
  head_hash: Uint8Array;
  anchored_pos: ColumnType<string, string | number | undefined, string | number>;
}

export interface AuditCheckpointsTable {
  chain_pos: ColumnType<string, string | number, string | number>;
  hash: Uint8Array;
  pruned_rows: ColumnType<string, string | number, string | number>;
  created_at: Timestamp;
  signature: Uint8Array;
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

type Created = Generated<Date>;

export interface CommunitiesTable {
  id: string;
  name: string;
  description: string | null;
  owner_id: string;
  who_can_create_groups: Generated<string>;
  who_can_invite: Generated<string>;
  discoverable: Generated<boolean>;
  created_at: Created;
  /** migrations/0028: public images and the welcome message. */
  icon_image_id: string | null;
  banner_image_id: string | null;
  welcome_message: string | null;
}

export interface CommunityMembersTable {
  community_id: string;
  user_id: string;
  role: Generated<string>;
  nickname: string | null;
  joined_at: Created;
}

export interface CommunityRolesTable {
  id: string;
  community_id: string;
  name: string;
  permissions: Generated<string[]>;
  position: Generated<number>;
  created_at: Created;
}

export interface CommunityMemberRolesTable {
  community_id: string;
  user_id: string;
  role_id: string;
}

export interface GroupsTable {
  id: string;
  community_id: string;
  name: string;
  position: Generated<number>;
  created_by: string | null;
  created_at: Created;
}

export interface ChannelsTable {
  id: string;
  kind: string;
  community_id: string | null;
  group_id: string | null;
  name: string | null;
  topic: string | null;
  is_private: Generated<boolean>;
  read_only: Generated<boolean>;
  archived: Generated<boolean>;
  slow_mode_seconds: Generated<number>;
  message_ttl_seconds: Generated<number>;
  position: Generated<number>;
  created_by: string | null;
  created_at: Created;
  /** Highest message seq of the channel (0004 messages); bigint, read as string by some drivers. */
  last_seq: ColumnType<string | number, string | number | undefined, string | number>;
  /** Bumped with every change of who may read the channel (0010; bigint, read as string by some drivers). */
  viewer_version: ColumnType<string | number, string | number | undefined, string | number>;
  /** 'shared' | 'joined' (0010): may new members read earlier messages. */
  history_visibility: Generated<string>;
}

export interface ChannelMembersTable {
  channel_id: string;
  user_id: string;
  added_at: Created;
}

export interface DmPairsTable {
  user_a: string;
  user_b: string;
  channel_id: string;
}

export interface ChannelRoleOverridesTable {
  id: string;
  channel_id: string;
  base_role: string | null;
  role_id: string | null;
  allow: Generated<string[]>;
  deny: Generated<string[]>;
}

export interface CommunityInvitesTable {
  id: string;
  community_id: string;
  code: string;
  created_by: string | null;
  max_uses: number | null;
  uses: Generated<number>;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: Created;
}

export interface CommunityBansTable {
  community_id: string;
  user_id: string;
  reason: string | null;
  banned_by: string | null;
  created_at: Created;
}

export interface CommunityTimeoutsTable {
  community_id: string;
  user_id: string;
  expires_at: Timestamp;
  reason: string | null;
  created_by: string | null;
  created_at: Created;
}

export interface CommunityWarningsTable {
  id: string;
  community_id: string;
  user_id: string;
  reason: string;
  created_by: string | null;
  created_at: Created;
}

export interface MessagePurgeRequestsTable {
  id: string;
  community_id: string;
  user_id: string;
  days: number;
  requested_by: string | null;
  created_at: Created;
  processed_at: Timestamp | null;
}

export interface ReportsTable {
  id: string;
  community_id: string | null;
  reporter_id: string | null;
  target_type: string;
  target_id: string;
  reason: string;
  attached_text: string | null;
  status: Generated<string>;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
  resolution_note: string | null;
  created_at: Created;
  /** Escalated to the instance's administrators (migrations/0032). */
  escalated_at: Timestamp | null;
  escalated_by: string | null;
  escalation_note: string | null;
  admin_status: string | null;
  admin_closed_by: string | null;
  admin_closed_at: Timestamp | null;
  admin_note: string | null;
}

/** A file a reporter attached to a message report, decrypted by them (migrations/0014). */
export interface ReportFilesTable {
  id: string;
  report_id: string;
  name: string;
  type: string;
  size: number;
  data: Uint8Array;
  created_at: Timestamp;
}

export interface CommunityAuditLogTable {
  id: string;
  community_id: string;
  actor_id: string | null;
  action: string;
  target_user_id: string | null;
  target_type: string | null;
  target_id: string | null;
  reason: string | null;
  metadata: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Created;
}

export interface UserBlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: Created;
}

/** Messages (migrations/0005_messages.sql, docs/messages.md). Ciphertexts are raw bytes. */
export interface MessagesTable {
  id: string;
  channel_id: string;
  seq: ColumnType<string | number, string | number, string | number>;
  sender_id: string | null;
  sender_device_id: string;
  client_id: string;
  scheme: string;
  ciphertext: Uint8Array | null;
  reply_to_id: string | null;
  thread_root_id: string | null;
  mentions: ColumnType<string[], string[] | undefined, string[]>;
  /** @everyone / @here (migration 0018); null: none. */
  mention_all: ColumnType<"everyone" | "here" | null, "everyone" | "here" | null | undefined, "everyone" | "here" | null>;
  /** For @here: who was online at send time (never exposed). */
  here_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** Migration 0030: the webhook that posted it (scheme 'wh'); null for people's messages. */
  webhook_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0030: a webhook message's content as JSON ({content, username, avatar_url}); never set for scheme sk/pw. */
  plaintext: ColumnType<WebhookPlaintext | null, string | null | undefined, string | null>;
  created_at: Created;
  edited_at: Date | null;
  deleted_at: Date | null;
  expires_at: Date | null;
}

/** What a webhook message holds in messages.plaintext (docs/integrations.md). */
export type WebhookPlaintext = { content: string; username: string | null; avatar_url: string | null };

export interface WebhooksTable {
  id: string;
  channel_id: string;
  name: string;
  token_hash: Uint8Array;
  created_by: string | null;
  created_at: Created;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface MessageEditsTable {
  id: string;
  message_id: string;
  ciphertext: Uint8Array;
  /** The device that wrote this version (NULL: kept before migration 0038). */
  sender_device_id: string | null;
  created_at: Date;
  replaced_at: Created;
}

export interface MessageReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: Created;
}

export interface ChannelPinsTable {
  channel_id: string;
  message_id: string;
  pinned_by: string | null;
  pinned_at: Created;
}

export interface ReadCursorsTable {
  user_id: string;
  channel_id: string;
  seq: ColumnType<string | number, string | number | undefined, string | number>;
  updated_at: Created;
}

export interface DeviceMessagesTable {
  id: string;
  recipient_id: string;
  recipient_device_id: string;
  sender_id: string;
  sender_device_id: string;
  ciphertext: Uint8Array;
  created_at: Created;
  /** octet_length(ciphertext), computed by the database (migrations/0008_to_device_quota.sql). */
  size_bytes: Generated<number>;
}

/** Bookmarks, polls, scheduled messages (migrations/0007_extras.sql). Texts are ciphertexts. */
export interface MessageBookmarksTable {
  id: string;
  user_id: string;
  message_id: string;
  note_ciphertext: Uint8Array | null;
  created_at: Created;
}

export interface PollsTable {
  id: string;
  channel_id: string;
  creator_id: string | null;
  client_id: string;
  question_ciphertext: Uint8Array;
  option_count: number;
  multi_select: boolean;
  anonymous: boolean;
  expires_at: Date | null;
  closed_at: Date | null;
  created_at: Created;
}

export interface PollVotesTable {
  poll_id: string;
  user_id: string;
  option_index: number;
  created_at: Created;
}

export interface ScheduledMessagesTable {
  id: string;
  user_id: string;
  channel_id: string;
  client_id: string;
  scheme: string;
  ciphertext: Uint8Array;
  sender_device_id: string;
  reply_to_id: string | null;
  thread_root_id: string | null;
  mentions: ColumnType<string[], string[] | undefined, string[]>;
  mention_all: ColumnType<"everyone" | "here" | null, "everyone" | "here" | null | undefined, "everyone" | "here" | null>;
  send_at: Date;
  status: Generated<string>;
  message_id: string | null;
  failure_code: string | null;
  created_at: Created;
  processed_at: Date | null;
}

/** migrations/0013_files.sql: encrypted uploads (docs/files.md); size columns are bigint. */
export interface FilesTable {
  id: string;
  blob_id: string;
  uploader_id: string;
  channel_id: string;
  size: ColumnType<string | number, string | number, string | number>;
  chunk_size: number;
  part_size: number;
  part_count: number;
  created_at: Date;
  expires_at: Date;
  completed_at: Date | null;
  message_id: string | null;
  scheduled_message_id: string | null;
  released_at: Date | null;
}

export interface FilePartsTable {
  file_id: string;
  part: number;
  size: number;
}

/** migrations/0011_voice.sql: one seat per user in a call (docs/voice.md). */
export interface VoiceParticipantsTable {
  user_id: string;
  channel_id: string;
  conn_id: string;
  session_id: string;
  device_id: string;
  instance_id: string;
  muted: Generated<boolean>;
  deafened: Generated<boolean>;
  video: Generated<boolean>;
  screen: Generated<boolean>;
  joined_at: Timestamp;
  seen_at: Timestamp;
  disconnected_at: Timestamp | null;
}

export interface VoiceRingsTable {
  channel_id: string;
  callee_id: string;
  caller_id: string;
  started_at: Timestamp;
  expires_at: Timestamp;
}

/** migrations/0014_push.sql: notification settings and web push subscriptions (docs/notifications.md). */
export type NotifyLevel = "all" | "mentions" | "none";
export interface NotificationPreferencesTable {
  user_id: string;
  level: Generated<NotifyLevel>;
  dm_level: Generated<NotifyLevel>;
  dnd: Generated<boolean>;
  muted_until: Timestamp | null;
  updated_at: Timestamp;
}

export interface NotificationOverridesTable {
  id: string;
  user_id: string;
  community_id: string | null;
  channel_id: string | null;
  level: NotifyLevel | null;
  muted_until: Timestamp | null;
  updated_at: Timestamp;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  session_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: Timestamp;
  last_success_at: Timestamp | null;
  failure_count: Generated<number>;
  last_failure_at: Timestamp | null;
}

/** migrations/0028: public images (not E2EE), re-encoded by the server. */
export interface ImagesTable {
  id: string;
  blob_id: string;
  sha256: string;
  kind: string;
  content_type: string;
  width: number;
  height: number;
  size: number;
  animated: Generated<boolean>;
  user_id: string | null;
  community_id: string | null;
  created_at: Created;
}

export interface CommunityEmojiTable {
  id: string;
  community_id: string;
  shortcode: string;
  image_id: string;
  created_by: string | null;
  created_at: Created;
}

/** migrations/0037: email verification, meetings, the mail outbox (docs/meetings.md). */
export interface EmailVerificationsTable {
  id: string;
  user_id: string;
  email: string;
  token_hash: Uint8Array;
  created_at: Created;
  expires_at: Date;
  used_at: Date | null;
}

export interface MeetingsTable {
  id: string;
  channel_id: string;
  organizer_id: string | null;
  include_title: Generated<boolean>;
  title: string | null;
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  voice_channel_id: string | null;
  message_id: string | null;
  sequence: Generated<number>;
  cancelled_at: Date | null;
  created_at: Created;
  updated_at: Created;
}

export interface MeetingAttendeesTable {
  meeting_id: string;
  user_id: string;
  rsvp: "yes" | "no" | "maybe" | null;
  responded_at: Date | null;
}

export interface MailOutboxTable {
  id: string;
  kind: "verify" | "meeting";
  user_id: string | null;
  meeting_id: string | null;
  to_address: string;
  subject: string;
  text_body: string;
  ical: string | null;
  ical_method: "REQUEST" | "CANCEL" | null;
  attempts: Generated<number>;
  next_attempt_at: Created;
  last_error: string | null;
  sent_at: Date | null;
  failed_at: Date | null;
  created_at: Created;
}

export interface DB {
  email_verifications: EmailVerificationsTable;
  meetings: MeetingsTable;
  meeting_attendees: MeetingAttendeesTable;
  mail_outbox: MailOutboxTable;
  schema_migrations: SchemaMigrationsTable;
  instance_settings: InstanceSettingsTable;
  users: UsersTable;
  webhooks: WebhooksTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  access_tokens: AccessTokensTable;
  password_reset_links: PasswordResetLinksTable;
  announcements: AnnouncementsTable;
  announcement_dismissals: AnnouncementDismissalsTable;
  login_attempts: LoginAttemptsTable;
  registration_invites: RegistrationInvitesTable;
  audit_log: AuditLogTable;
  audit_chain: AuditChainTable;
  audit_checkpoints: AuditCheckpointsTable;
  key_devices: KeyDevicesTable;
  key_one_time_prekeys: KeyOneTimePrekeysTable;
  key_backups: KeyBackupsTable;
  communities: CommunitiesTable;
  community_members: CommunityMembersTable;
  community_roles: CommunityRolesTable;
  community_member_roles: CommunityMemberRolesTable;
  groups: GroupsTable;
  channels: ChannelsTable;
  channel_members: ChannelMembersTable;
  dm_pairs: DmPairsTable;
  channel_role_overrides: ChannelRoleOverridesTable;
  community_invites: CommunityInvitesTable;
  community_bans: CommunityBansTable;
  community_timeouts: CommunityTimeoutsTable;
  community_warnings: CommunityWarningsTable;
  message_purge_requests: MessagePurgeRequestsTable;
  reports: ReportsTable;
  report_files: ReportFilesTable;
  community_audit_log: CommunityAuditLogTable;
  user_blocks: UserBlocksTable;
  messages: MessagesTable;
  message_edits: MessageEditsTable;
  message_reactions: MessageReactionsTable;
  channel_pins: ChannelPinsTable;
  read_cursors: ReadCursorsTable;
  device_messages: DeviceMessagesTable;
  message_bookmarks: MessageBookmarksTable;
  polls: PollsTable;
  poll_votes: PollVotesTable;
  scheduled_messages: ScheduledMessagesTable;
  voice_participants: VoiceParticipantsTable;
  voice_rings: VoiceRingsTable;
  files: FilesTable;
  file_parts: FilePartsTable;
  notification_preferences: NotificationPreferencesTable;
  notification_overrides: NotificationOverridesTable;
  push_subscriptions: PushSubscriptionsTable;
  images: ImagesTable;
  community_emoji: CommunityEmojiTable;
}
