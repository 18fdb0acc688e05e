-- Bookmarks, polls and scheduled messages (issue 6 §2, docs/messages.md). As with messages, the
-- server stores only opaque ciphertexts: a bookmark's note, a poll's question and options, and a
-- scheduled message are encrypted by the client. The server knows a poll's option COUNT and
-- counts votes by option index.

CREATE TABLE message_bookmarks (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  -- Encrypted by the client with the user's own key material; ≤ 4 KiB decoded.
  note_ciphertext bytea CHECK (note_ciphertext IS NULL OR octet_length(note_ciphertext) BETWEEN 1 AND 4096),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, message_id)
);
CREATE INDEX message_bookmarks_user_idx ON message_bookmarks (user_id, created_at DESC, id DESC);

CREATE TABLE polls (
  id uuid PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  creator_id uuid REFERENCES users (id) ON DELETE SET NULL,
  client_id uuid NOT NULL,
  -- The question and the option texts, encrypted together like a message.
  question_ciphertext bytea NOT NULL CHECK (octet_length(question_ciphertext) BETWEEN 1 AND 65536),
  option_count smallint NOT NULL CHECK (option_count BETWEEN 2 AND 10),
  multi_select boolean NOT NULL,
  anonymous boolean NOT NULL,
  expires_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX polls_creator_client_key ON polls (creator_id, client_id);
CREATE INDEX polls_channel_idx ON polls (channel_id, created_at DESC);

CREATE TABLE poll_votes (
  poll_id uuid NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  option_index smallint NOT NULL CHECK (option_index BETWEEN 0 AND 9),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (poll_id, user_id, option_index)
);

CREATE TABLE scheduled_messages (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  client_id uuid NOT NULL,
  scheme text NOT NULL CHECK (scheme IN ('sk', 'pw')),
  ciphertext bytea NOT NULL CHECK (octet_length(ciphertext) BETWEEN 1 AND 65536),
  sender_device_id text NOT NULL CHECK (sender_device_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  reply_to_id uuid,
  thread_root_id uuid,
  mentions uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(mentions) <= 50),
  send_at timestamptz NOT NULL,
  -- pending → sent (message_id set) or failed (failure_code set).
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  message_id uuid REFERENCES messages (id) ON DELETE SET NULL,
  failure_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  UNIQUE (user_id, client_id)
);
CREATE INDEX scheduled_messages_due_idx ON scheduled_messages (send_at) WHERE status = 'pending';
CREATE INDEX scheduled_messages_user_idx ON scheduled_messages (user_id, send_at);
