-- Communities, groups, channels, DMs, roles and moderation (issue 5).
-- Deletion rule: every child row of a community cascades from communities(id), so deleting a
-- community is one DELETE in one transaction. Every ON DELETE SET NULL column is nullable
-- (the reference paired NOT NULL with SET NULL and its deletions failed).
CREATE TABLE communities (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
  description text CHECK (char_length(description) <= 2048),
  -- RESTRICT: account deletion must refuse (and tell the user) while they own a community.
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  who_can_create_groups text NOT NULL DEFAULT 'admin' CHECK (who_can_create_groups IN ('everyone', 'moderator', 'admin')),
  who_can_invite text NOT NULL DEFAULT 'everyone' CHECK (who_can_invite IN ('everyone', 'moderator', 'admin')),
  discoverable boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX communities_owner_id_idx ON communities (owner_id);

-- One role column: the rank of a member. Custom roles add permissions (and order members of one
-- base rank by position), they never make a member outrank a higher base role.
CREATE TABLE community_members (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
  nickname text CHECK (char_length(nickname) <= 64),
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_user_id_idx ON community_members (user_id);

CREATE TABLE community_roles (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
  permissions text[] NOT NULL DEFAULT '{}',
  -- 1..999: orders members of the same base rank (higher position outranks lower).
  position integer NOT NULL DEFAULT 1 CHECK (position BETWEEN 1 AND 999),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX community_roles_name_key ON community_roles (community_id, lower(name));

CREATE TABLE community_member_roles (
  community_id uuid NOT NULL,
  user_id uuid NOT NULL,
  role_id uuid NOT NULL REFERENCES community_roles (id) ON DELETE CASCADE,
  PRIMARY KEY (community_id, user_id, role_id),
  FOREIGN KEY (community_id, user_id) REFERENCES community_members (community_id, user_id) ON DELETE CASCADE
);
CREATE INDEX community_member_roles_role_id_idx ON community_member_roles (role_id);

CREATE TABLE groups (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
  position integer NOT NULL DEFAULT 0,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX groups_community_id_idx ON groups (community_id);

-- Community channels have a group; DMs and group DMs have neither group nor community and are
-- reachable only through channel_members (nobody joins a DM by id).
CREATE TABLE channels (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('text', 'voice', 'announcement', 'dm', 'group_dm')),
  community_id uuid REFERENCES communities (id) ON DELETE CASCADE,
  group_id uuid REFERENCES groups (id) ON DELETE CASCADE,
  name text CHECK (char_length(name) BETWEEN 1 AND 64),
  topic text CHECK (char_length(topic) <= 512),
  is_private boolean NOT NULL DEFAULT false,
  read_only boolean NOT NULL DEFAULT false,
  archived boolean NOT NULL DEFAULT false,
  slow_mode_seconds integer NOT NULL DEFAULT 0 CHECK (slow_mode_seconds BETWEEN 0 AND 86400),
  message_ttl_seconds integer NOT NULL DEFAULT 0 CHECK (message_ttl_seconds BETWEEN 0 AND 2592000),
  position integer NOT NULL DEFAULT 0,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind IN ('dm', 'group_dm')) = (group_id IS NULL)),
  CHECK ((group_id IS NULL) = (community_id IS NULL)),
  CHECK (kind IN ('dm', 'group_dm') OR name IS NOT NULL)
);
CREATE INDEX channels_group_id_idx ON channels (group_id);
CREATE INDEX channels_community_id_idx ON channels (community_id);

-- Members of private channels and participants of DMs.
CREATE TABLE channel_members (
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user_id_idx ON channel_members (user_id);

-- One DM per ordered pair; the unique key makes concurrent get-or-create converge.
CREATE TABLE dm_pairs (
  user_a uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_b uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL UNIQUE REFERENCES channels (id) ON DELETE CASCADE,
  PRIMARY KEY (user_a, user_b),
  CHECK (user_a < user_b)
);

-- Per-channel allow/deny for a base role or a custom role (exactly one of the two).
CREATE TABLE channel_role_overrides (
  id uuid PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  base_role text CHECK (base_role IN ('admin', 'moderator', 'member')),
  role_id uuid REFERENCES community_roles (id) ON DELETE CASCADE,
  allow text[] NOT NULL DEFAULT '{}',
  deny text[] NOT NULL DEFAULT '{}',
  CHECK ((base_role IS NULL) <> (role_id IS NULL))
);
CREATE UNIQUE INDEX channel_role_overrides_target_key ON channel_role_overrides (channel_id, coalesce(base_role, role_id::text));

CREATE TABLE community_invites (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  code text NOT NULL UNIQUE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  max_uses integer CHECK (max_uses IS NULL OR max_uses >= 1),
  uses integer NOT NULL DEFAULT 0,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX community_invites_community_id_idx ON community_invites (community_id);

CREATE TABLE community_bans (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  reason text CHECK (char_length(reason) <= 500),
  banned_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, user_id)
);

CREATE TABLE community_timeouts (
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  reason text CHECK (char_length(reason) <= 500),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, user_id)
);

CREATE TABLE community_warnings (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX community_warnings_user_idx ON community_warnings (community_id, user_id, created_at DESC);

-- "Delete their last N days of messages" on ban: recorded here; the messaging feature consumes it.
CREATE TABLE message_purge_requests (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  days integer NOT NULL CHECK (days BETWEEN 1 AND 7),
  requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);

CREATE TABLE reports (
  id uuid PRIMARY KEY,
  community_id uuid REFERENCES communities (id) ON DELETE CASCADE,
  reporter_id uuid REFERENCES users (id) ON DELETE SET NULL,
  target_type text NOT NULL CHECK (target_type IN ('message', 'user')),
  target_id uuid NOT NULL,
  reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 2000),
  -- The decrypted text the reporter saw (the server cannot read messages); reporter's claim only.
  attached_text text CHECK (char_length(attached_text) <= 4000),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
  resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
  resolved_at timestamptz,
  resolution_note text CHECK (char_length(resolution_note) <= 2000),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_community_status_idx ON reports (community_id, status, created_at DESC);

CREATE TABLE community_audit_log (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  action text NOT NULL,
  target_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  target_type text,
  target_id text,
  reason text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX community_audit_log_idx ON community_audit_log (community_id, created_at DESC, id DESC);

CREATE TABLE user_blocks (
  blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blocker_id, blocked_id),
  CHECK (blocker_id <> blocked_id)
);
CREATE INDEX user_blocks_blocked_id_idx ON user_blocks (blocked_id);
