-- Files (issue 12, docs/files.md): encrypted uploads in the blob store (src/blobs). What the
-- server knows of a file is in this table and nothing more: its id, ciphertext size, chunk and
-- part layout, uploader, channel, times and the message that carries it. Name, type, key and
-- everything else travel inside that (end-to-end encrypted) message.
--
-- A row is an upload session until completed_at is set, an unattached upload until message_id
-- or scheduled_message_id is set. Quota = the sum of `size` over a user's rows with released_at
-- NULL (reserved when the session starts). A row leaves by: session expiry (never attached
-- within 24 h), the message's deletion or ban purge (released_at set, then removed by the job),
-- the message's hard delete or TTL, the channel's or the uploader's deletion (CASCADE). The blob
-- of a row that is gone is removed by the files job (orphan walk).
CREATE TABLE files (
  id uuid PRIMARY KEY,
  -- The blob store's key: 128 random bits, unrelated to the file id.
  blob_id text NOT NULL UNIQUE CHECK (blob_id ~ '^[0-9a-f]{32}$'),
  uploader_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  size bigint NOT NULL CHECK (size >= 1),
  chunk_size integer NOT NULL CHECK (chunk_size BETWEEN 4096 AND 1048576),
  part_size integer NOT NULL CHECK (part_size >= 1),
  part_count integer NOT NULL CHECK (part_count BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  completed_at timestamptz,
  message_id uuid REFERENCES messages (id) ON DELETE CASCADE,
  scheduled_message_id uuid REFERENCES scheduled_messages (id) ON DELETE SET NULL,
  released_at timestamptz
);
CREATE INDEX files_uploader_idx ON files (uploader_id) WHERE released_at IS NULL;
CREATE INDEX files_message_idx ON files (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX files_scheduled_idx ON files (scheduled_message_id) WHERE scheduled_message_id IS NOT NULL;
CREATE INDEX files_unattached_idx ON files (expires_at) WHERE message_id IS NULL AND scheduled_message_id IS NULL;
CREATE INDEX files_released_idx ON files (released_at) WHERE released_at IS NOT NULL;
CREATE INDEX files_channel_idx ON files (channel_id);

-- Acknowledged parts: part n is stored in the blob store once its row exists.
CREATE TABLE file_parts (
  file_id uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  part integer NOT NULL CHECK (part BETWEEN 0 AND 9999),
  size integer NOT NULL CHECK (size >= 1),
  PRIMARY KEY (file_id, part)
);
