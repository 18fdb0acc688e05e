-- Messages (issue 6, docs/messages.md). The server stores opaque ciphertexts and the metadata it
-- needs to order, route and moderate them. Every table cascades from channels (and so from
-- communities): deleting a community or a channel stays one DELETE in one transaction.
-- Every ON DELETE SET NULL column is nullable.

-- Per-channel sequence: incremented in the send transaction with the channel row locked, so
-- committed messages of a channel are numbered 1, 2, 3... without gaps.
ALTER TABLE channels ADD COLUMN last_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE messages (
  id uuid PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  seq bigint NOT NULL CHECK (seq >= 1),
  -- SET NULL: deleting an account keeps the conversation of the others readable (their replies
  -- and threads keep their context); the client shows "deleted account".
  sender_id uuid REFERENCES users (id) ON DELETE SET NULL,
  sender_device_id text NOT NULL CHECK (sender_device_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  client_id uuid NOT NULL,
  scheme text NOT NULL CHECK (scheme IN ('sk', 'pw')),
  -- Decoded bytes of the base64url ciphertext; NULL once deleted (content erased).
  ciphertext bytea CHECK (ciphertext IS NULL OR octet_length(ciphertext) BETWEEN 1 AND 65536),
  -- SET NULL for both links: hard-deleting a message (30 days after its deletion, or at its TTL)
  -- never deletes other people's replies; a thread reply whose root is gone becomes a plain message.
  reply_to_id uuid REFERENCES messages (id) ON DELETE SET NULL,
  thread_root_id uuid REFERENCES messages (id) ON DELETE SET NULL,
  mentions uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(mentions) <= 50),
  created_at timestamptz NOT NULL DEFAULT now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  expires_at timestamptz,
  CHECK ((deleted_at IS NULL) = (ciphertext IS NOT NULL))
);
-- History pages, catch-up (after_seq) and the uniqueness of the sequence, in one index.
CREATE UNIQUE INDEX messages_channel_seq_key ON messages (channel_id, seq DESC);
-- Idempotent sends: a retried client id converges on one row, also under concurrency.
CREATE UNIQUE INDEX messages_sender_client_key ON messages (sender_id, client_id);
-- Slow mode (last send of a user in a channel) and ban purges (a user's recent messages).
CREATE INDEX messages_sender_created_idx ON messages (sender_id, channel_id, created_at DESC);
CREATE INDEX messages_thread_root_idx ON messages (thread_root_id) WHERE thread_root_id IS NOT NULL;
CREATE INDEX messages_reply_to_idx ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX messages_expires_idx ON messages (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX messages_deleted_idx ON messages (deleted_at) WHERE deleted_at IS NOT NULL;

-- Previous ciphertexts of edited messages (still opaque to the server).
CREATE TABLE message_edits (
  id uuid PRIMARY KEY,
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL,
  replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_edits_message_idx ON message_edits (message_id, replaced_at);

CREATE TABLE message_reactions (
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  emoji text NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, emoji, user_id)
);
CREATE INDEX message_reactions_user_idx ON message_reactions (user_id);

CREATE TABLE channel_pins (
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  pinned_by uuid REFERENCES users (id) ON DELETE SET NULL,
  pinned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, message_id)
);
CREATE INDEX channel_pins_message_idx ON channel_pins (message_id);

-- Highest seq a user has read per channel (only moves forward).
CREATE TABLE read_cursors (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX read_cursors_channel_idx ON read_cursors (channel_id);

-- To-device queue: pairwise key material addressed to one device, deleted on acknowledgement.
-- id is a UUIDv7 (time-ordered): `after` and `up_to_id` compare ids.
CREATE TABLE device_messages (
  id uuid PRIMARY KEY,
  recipient_id uuid NOT NULL,
  recipient_device_id text NOT NULL,
  sender_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sender_device_id text NOT NULL,
  ciphertext bytea NOT NULL CHECK (octet_length(ciphertext) BETWEEN 1 AND 65536),
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (recipient_id, recipient_device_id) REFERENCES key_devices (user_id, device_id) ON DELETE CASCADE
);
CREATE INDEX device_messages_recipient_idx ON device_messages (recipient_id, recipient_device_id, id);
CREATE INDEX device_messages_sender_idx ON device_messages (sender_id, created_at);
