-- Notification settings and web push subscriptions (issue 13 §4 and §6, docs/notifications.md).
-- Nothing here is user content: levels, mute deadlines, and the push service's endpoint and
-- public keys of a browser's subscription (RFC 8030 / RFC 8291). Payloads are never stored.

-- One row per user once they change anything; no row = the defaults (community channels:
-- mentions only, DMs: all, no do-not-disturb, not muted).
CREATE TABLE notification_preferences (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  level text NOT NULL DEFAULT 'mentions' CHECK (level IN ('all', 'mentions', 'none')),
  dm_level text NOT NULL DEFAULT 'all' CHECK (dm_level IN ('all', 'mentions', 'none')),
  dnd boolean NOT NULL DEFAULT false,
  -- Mutes everything until this moment (a far-future date = until turned back on).
  muted_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Per community or per channel (DMs included): a level (NULL = inherit) and/or a mute.
CREATE TABLE notification_overrides (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  community_id uuid REFERENCES communities (id) ON DELETE CASCADE,
  channel_id uuid REFERENCES channels (id) ON DELETE CASCADE,
  level text CHECK (level IS NULL OR level IN ('all', 'mentions', 'none')),
  muted_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((community_id IS NULL) <> (channel_id IS NULL))
);
CREATE UNIQUE INDEX notification_overrides_community_key ON notification_overrides (user_id, community_id) WHERE community_id IS NOT NULL;
CREATE UNIQUE INDEX notification_overrides_channel_key ON notification_overrides (user_id, channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX notification_overrides_channel_idx ON notification_overrides (channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX notification_overrides_community_idx ON notification_overrides (community_id) WHERE community_id IS NOT NULL;

-- A browser's push subscription, owned by the session (device) that created it: signing that
-- session out (or its deletion) ends its pushes.
CREATE TABLE push_subscriptions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  endpoint text NOT NULL UNIQUE CHECK (char_length(endpoint) BETWEEN 1 AND 2048),
  p256dh text NOT NULL CHECK (p256dh ~ '^[A-Za-z0-9_-]{80,100}$'),
  auth text NOT NULL CHECK (auth ~ '^[A-Za-z0-9_-]{16,32}$'),
  created_at timestamptz NOT NULL,
  last_success_at timestamptz,
  -- Consecutive failures other than 404/410 (those delete the row at once); the job removes
  -- subscriptions that keep failing.
  failure_count integer NOT NULL DEFAULT 0,
  last_failure_at timestamptz
);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_session_idx ON push_subscriptions (session_id);
